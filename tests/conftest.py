import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ctx(tmp_path):
    from zerollm.stage import StageContext

    return StageContext(workdir=tmp_path, log=logging.getLogger("test"))


# A tiny world through collect → … → pretrain, shared by the sft, rlhf and probe tests: a few real
# pretraining steps of a very small model (what the chat stages do with it is the point there).
TINY_BASE = [
    "collect.sources=[{type: synthetic, language: en, seed: 0, target_mb: 0.3}]",
    "filter.workers=1", "dedup.workers=1", "tokenizer.vocab_size=1024", "tokenizer.num_workers=0",
    "pretrain.preset=custom", "pretrain.shape={n_layer: 2, d_model: 64, n_head: 4, ffn_dim: 128}",
    "pretrain.seq_len=128", "pretrain.micro_batch=8", "pretrain.batch_tokens=1024", "pretrain.max_steps=30",
    "pretrain.lr=3e-3", "pretrain.warmup_steps=3", "pretrain.eval_every=30", "pretrain.checkpoint_every=30",
    "pretrain.samples=0", "pretrain.probe.max_items=24",
    "sft.max_steps=4", "sft.micro_batch=8", "sft.checkpoint_every=2", "sft.log_every=1", "sft.max_length=128",
    "sft.probe.max_items=24",
    "rlhf.max_steps=2", "rlhf.micro_batch=4", "rlhf.max_length=128", "rlhf.onpolicy.prompts=8",
    "rlhf.max_completion_length=12", "rlhf.num_generations=2",
    "rlhf.reward_model.epochs=0.1", "rlhf.reward_model.max_length=128", "rlhf.probe.max_items=24",
    "quantize.parity_docs=8", "quantize.speed_tokens=16",
    "evaluate.max_items=24", "evaluate.ppl_docs=8", "evaluate.max_new_tokens=16",
    "tracking.enabled=false",
]


def tiny_config(*overrides: str):
    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig

    return load_config(PipelineConfig, None, [*TINY_BASE, *overrides])


@pytest.fixture(scope="session")
def chat_base(tmp_path_factory):
    """Stage dirs of a tiny run through sft: {stage: Path}."""
    from zerollm.runner import run_pipeline

    work = tmp_path_factory.mktemp("chat-base")
    outs = run_pipeline(tiny_config(), work, until="sft")
    return {o.stage: work / o.dir for o in outs}


def tracked(work: Path) -> list[str]:
    """Overrides that track into a sqlite MLflow store in `work` (the registry needs tracking)."""
    return ["tracking.enabled=true", f"tracking.uri=sqlite:///{work}/mlflow.db"]


@pytest.fixture(scope="session")
def released(chat_base):
    """The chat_base workdir carried on through rlhf, quantize and evaluate (tracked, registered):
    {"work": Path, stage: Path}."""
    from zerollm.runner import run_pipeline

    work = chat_base["sft"].parents[2]
    outs = run_pipeline(tiny_config(*tracked(work)), work)
    return {"work": work, **{o.stage: work / o.dir for o in outs}}

