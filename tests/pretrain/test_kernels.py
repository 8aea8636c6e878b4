"""The GPU config's switches, checked where a CPU can: the fused kernels fall back to PyTorch, an
impossible choice is one config line before anything runs, and MFU counts what the issue counts."""

import logging

import pytest
import torch

from zerollm import mfu
from zerollm.pretrain import kernels


def test_auto_kernels_fall_back_to_torch_on_cpu():
    assert kernels.choose("auto", torch.device("cpu")) == "torch"
    assert kernels.choose("torch", torch.device("cpu")) == "torch"


def test_liger_on_cpu_is_one_line_naming_the_key():
    with pytest.raises(ValueError, match=r"^pretrain\.kernels=liger needs a CUDA device.*allowed here: auto or torch"):
        kernels.choose("liger", torch.device("cpu"))


def test_the_stage_check_reports_it_before_anything_runs(tmp_path):
    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig
    from zerollm.pretrain import stage
    from zerollm.stage import StageContext

    cfg = load_config(PipelineConfig, None, ["pretrain.kernels=liger", "pretrain.device=cpu"])
    problems = stage.check(cfg.pretrain, cfg, StageContext(workdir=tmp_path, log=logging.getLogger("t")))
    assert len(problems) == 1 and problems[0].startswith("pretrain.kernels=liger")


def test_torch_loss_is_plain_cross_entropy():
    from contextlib import nullcontext

    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=2, max_position_embeddings=16))
    batch = torch.randint(0, 64, (2, 9))
    loss = kernels.causal_lm_loss("torch", upcast=True)(model, model, batch[:, :-1], batch[:, 1:], nullcontext,
                                                       nullcontext)
    logits = model(input_ids=batch[:, :-1]).logits
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 64), batch[:, 1:].reshape(-1))
    assert torch.allclose(loss, ref)


@pytest.mark.parametrize("tied", [True, False])
def test_mfu_counts_matmul_parameters(tied):
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                         num_attention_heads=2, max_position_embeddings=8,
                                         tie_word_embeddings=tied))
    total = sum(p.numel() for p in model.parameters())
    # a tied embedding is also the output projection (a matmul); an untied input embedding is a lookup
    assert mfu.matmul_params(model) == (total if tied else total - 100 * 16)
    fpt = mfu.model_flops_per_token(model, seq_len=8)
    assert fpt == 6 * mfu.matmul_params(model) + 12 * 2 * 16 * 8
    assert mfu.peak_flops("cpu") is None and mfu.mfu(fpt, 1000.0, None) is None
    assert mfu.mfu(fpt, 1000.0, 1e12) == pytest.approx(fpt * 1000 / 1e12)
