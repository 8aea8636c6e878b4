"""Every shipped config validates; the GPU recipe says what README promises (it cannot download here)."""

import pytest

from tests.conftest import REPO
from zerollm.config import load_config
from zerollm.pipeline_config import PipelineConfig


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    load_config(PipelineConfig, path)


def test_gpu_124m_recipe():
    cfg = load_config(PipelineConfig, REPO / "configs" / "gpu-124m.yaml")
    assert cfg.collect.sources[0].type == "hf" and cfg.collect.sources[0].streaming
    assert cfg.tokenizer.vocab_size == 32000
    p = cfg.pretrain
    assert (p.preset, p.seq_len, p.tie_embeddings) == ("124m", 1024, True)
    assert 1.0e9 <= p.batch_tokens * p.max_steps <= 2.0e9 and p.grad_accum == 8


@pytest.mark.parametrize("name", ["tiny.yaml", "tiny-zh.yaml"])
def test_tiny_recipes_are_the_cpu_default(name):
    cfg = load_config(PipelineConfig, REPO / "configs" / name)
    p = cfg.pretrain
    assert p.shape.n_layer * p.shape.d_model ** 2 <= 1.0e6 and p.device == "auto"
    assert p.batch_tokens * p.max_steps <= 4.2e6  # ~7 minutes on 2 cores (docs/benchmarks.md)
    assert cfg.rlhf.method == "dpo" and cfg.sft.lora.enabled is False
    # `zerollm status` shows what each model stage taught (qa_exact_match, qa_mc_accuracy)
    assert cfg.pretrain.probe.enabled and cfg.sft.probe.enabled and cfg.rlhf.probe.enabled


def test_gpu_recipe_takes_chat_data_from_the_hub():
    cfg = load_config(PipelineConfig, REPO / "configs" / "gpu-124m.yaml")
    assert cfg.collect.sft[0].dataset == "HuggingFaceH4/ultrachat_200k"
    assert cfg.collect.preference[0].dataset == "HuggingFaceH4/ultrafeedback_binarized"
    assert cfg.sft.max_length <= cfg.pretrain.seq_len


def test_gpu_chain_recipe_needs_nothing_from_a_hub():
    """configs/gpu.yaml is what bench/gpu_chain.sh runs on a bare, offline GPU box."""
    cfg = load_config(PipelineConfig, REPO / "configs" / "gpu.yaml")
    assert [s.type for s in cfg.collect.sources] == ["synthetic"]
    assert all(getattr(cfg.collect, k) is None for k in ("sft", "preference", "eval", "prompts"))  # the world's
    assert cfg.filter.word_tokenizer == "regex"  # no spaCy on the box
    assert cfg.tracking.enabled is False  # no MLflow on the box
    assert cfg.pretrain.kernels == "auto" and cfg.pretrain.dtype == "bf16"
    assert cfg.pretrain.batch_tokens * cfg.pretrain.max_steps > 20 * 4096 * 360  # far beyond the tiny recipe


def test_gpu_chain_recipe_plans_all_nine_stages_here(tmp_path):
    """The plan (keys, checks) of the GPU chain is computed on a CPU too: only running it needs the GPU."""
    from zerollm.registry import STAGES
    from zerollm.runner import plan

    cfg = load_config(PipelineConfig, REPO / "configs" / "gpu.yaml")
    plans = plan(cfg, tmp_path, None, ())
    assert [p.stage for p in plans] == list(STAGES.names) and {p.action for p in plans} == {"run"}
