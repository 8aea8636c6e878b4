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


def test_tiny_recipe_is_the_cpu_default():
    cfg = load_config(PipelineConfig, REPO / "configs" / "tiny.yaml")
    assert cfg.pretrain.preset == "tiny" and cfg.pretrain.device == "auto"
    assert cfg.pretrain.batch_tokens * cfg.pretrain.max_steps <= 1.0e6  # minutes on 2 cores (docs/benchmarks.md)
