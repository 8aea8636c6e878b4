"""Model FLOPs utilisation: the one formula every training stage (pretrain, sft, rlhf) reports.

    MFU = flops_per_token × trained tokens per second ÷ the GPU's dense bf16 peak
    flops_per_token = 6·N + 12·L·d·T        (PaLM's count, as nanoGPT's bench.py)

N is the parameters that do matmuls: all of them except an untied input embedding, which is a
lookup (a tied one is also the output projection, so it stays). L is layers, d the width and T the
sequence length (the attention term). Padding tokens are not counted, and neither is work that
trains nothing: DPO's reference forward pass and the sampling of on-policy answers.
"""

from __future__ import annotations

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16, by device name


def peak_flops(device) -> float | None:
    """The device's dense bf16 peak in FLOP/s; None on CPU or an unknown GPU (no MFU then)."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((tflops * 1e12 for key, tflops in PEAK_BF16_TFLOPS.items() if key in name), None)


def matmul_params(model) -> int:
    """N: parameters less an untied input embedding."""
    n = sum(p.numel() for p in model.parameters())  # a tied weight is counted once
    emb, out = model.get_input_embeddings(), model.get_output_embeddings()
    if emb is not None and (out is None or out.weight is not emb.weight):
        n -= emb.weight.numel()
    return n


def flops_per_token(n_params: int, n_layer: int, d_model: int, seq_len: int) -> int:
    return 6 * n_params + 12 * n_layer * d_model * seq_len


def model_flops_per_token(model, seq_len: int) -> int:
    c = model.config
    return flops_per_token(matmul_params(model), c.num_hidden_layers, c.hidden_size, seq_len)


def mfu(flops_per_token_: float, tokens_per_s: float, peak: float | None) -> float | None:
    return flops_per_token_ * tokens_per_s / peak if peak else None
