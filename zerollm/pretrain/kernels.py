"""Fused training kernels for the Llama model: Liger Kernel's Triton RMSNorm, RoPE, SwiGLU and fused
linear cross-entropy on a GPU, plain PyTorch everywhere else.

Liger replaces the modules of the model instance it is given, not the checkpoint: the weights keep
their names and shapes, so what is saved is still a plain HF Llama that llama.cpp converts. The fused
linear cross-entropy takes the last hidden state and the output weights and never materialises the
[tokens, vocab] logits, which on a GPU is a memory-bound pass of its own.
"""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F


def liger_available() -> bool:
    return importlib.util.find_spec("liger_kernel") is not None


def choose(setting: str, device: torch.device) -> str:
    """The kernels a run uses: "liger" or "torch". auto is Liger on CUDA when it is installed."""
    if setting == "liger":
        if device.type != "cuda":
            raise ValueError("pretrain.kernels=liger needs a CUDA device (Liger's kernels are Triton); "
                             "allowed here: auto or torch")
        if not liger_available():
            raise ValueError("pretrain.kernels=liger needs the liger-kernel package; allowed without it: auto or torch")
        return "liger"
    if setting == "auto" and device.type == "cuda" and liger_available():
        return "liger"
    return "torch"


def apply(model, kernels: str) -> None:
    """Swap the model's RMSNorm, RoPE and SwiGLU for Liger's, in place (kernels="liger")."""
    if kernels != "liger":
        return
    from liger_kernel.transformers import apply_liger_kernel_to_llama

    apply_liger_kernel_to_llama(rope=True, rms_norm=True, swiglu=True, cross_entropy=False,
                                fused_linear_cross_entropy=False, model=model)


def causal_lm_loss(kernels: str, upcast: bool):
    """loss(model, forward, x, y, autocast, attention): mean next-token cross-entropy. `forward` is what
    runs the model (the DDP wrapper or the model itself, so gradient sync sees every call); the forward
    pass runs inside `autocast()` and `attention()` (the SDPA backend)."""
    if kernels == "liger":
        from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

        fused = LigerFusedLinearCrossEntropyLoss()

        def liger_loss(model, forward, x, y, autocast, attention):
            with autocast(), attention():  # logits for the last position only: the loss comes from the hidden state
                h = forward(input_ids=x, output_hidden_states=True, logits_to_keep=1).hidden_states[-1]
                return fused(model.lm_head.weight, h.reshape(-1, h.size(-1)), y.reshape(-1)).float()

        return liger_loss

    def torch_loss(model, forward, x, y, autocast, attention):
        with autocast(), attention():
            logits = forward(input_ids=x).logits
        logits = logits.float() if upcast else logits
        return F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1)).float()

    return torch_loss
