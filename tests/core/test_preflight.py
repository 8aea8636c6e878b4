"""A run that must fail fails before any stage starts, in one line naming the key and what is allowed;
"my own corpus, defaults for the rest" runs, its chat sets coming from the embedded world."""

import logging
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from zerollm.config import ConfigError, load_config
from zerollm.io.shards import read_jsonl
from zerollm.pipeline_config import PipelineConfig
from zerollm.registry import STAGES
from zerollm.runner import plan, run_pipeline
from zerollm.stage import StageContext


def problems(tmp_path, *sets: str) -> str:
    cfg = load_config(PipelineConfig, None, ["tracking.enabled=false", *sets])
    with pytest.raises(ConfigError) as err:
        plan(cfg, tmp_path / "w")
    assert not (tmp_path / "w" / "stages").exists(), "nothing ran"
    return str(err.value)


def test_a_glob_that_matches_nothing(tmp_path):
    msg = problems(tmp_path, f"collect.sources=[{{type: jsonl, path: '{tmp_path}/nope/*.jsonl'}}]")
    assert msg.startswith("config error: collect.sources[0].path: ") and "matches no files" in msg
    assert "allowed:" in msg and len(msg.splitlines()) == 1


def test_a_chat_set_that_is_empty_by_config(tmp_path):
    msg = problems(tmp_path, "collect.sft=[]", "collect.preference=[]")
    assert msg.splitlines() == [
        "config error: collect.sft: empty, but the sft stage trains on it; allowed: a list of dataset sources, or "
        "unset (the synthetic world's chats)",
        "config error: collect.preference: empty, but rlhf.method=dpo learns from it; allowed: a list of dataset "
        "sources, or unset (the synthetic world's)"]


def test_a_missing_device(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    msg = problems(tmp_path, "pretrain.device=cuda")
    assert msg == "config error: pretrain.device: cuda, but no CUDA device is visible; allowed: auto, cpu"


def test_a_quantize_model_stage_that_is_not_selected(tmp_path):
    cfg = load_config(PipelineConfig, None, ["quantize.model=rlhf"])
    ctx = StageContext(workdir=tmp_path, log=logging.getLogger("t"), model_stages=STAGES.model_stages,
                       selected=("collect", "filter", "dedup", "tokenizer", "pretrain", "sft", "quantize"))
    assert STAGES.get("quantize").check(cfg.quantize, cfg, ctx) == [
        "quantize.model: 'rlhf' is not selected in this run; allowed: pretrain, sft"]


def test_the_cli_fails_in_seconds_with_one_line(tmp_path):
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "zerollm", "run", "--workdir", str(tmp_path / "w"), "--set",
                           f"collect.sources=[{{type: text, path: '{tmp_path}/corpus/*.txt'}}]"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and time.time() - t0 < 60
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("config error: collect.sources[0].path:"), proc.stderr


def test_own_corpus_defaults_for_the_rest(tmp_path, caplog):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(f'{{"text": "Document number {i} talks about the weather and the sea."}}\n'
                              for i in range(50)))
    cfg = load_config(PipelineConfig, None, ["tracking.enabled=false",
                                             f"collect.sources=[{{type: jsonl, path: '{corpus}'}}]"])
    with caplog.at_level(logging.WARNING):
        assert [p.stage for p in plan(cfg, tmp_path / "w")] == list(STAGES.names)
    notice = [r.getMessage() for r in caplog.records if "embedded world" in r.getMessage()]
    assert notice == ["collect: collect.sft, collect.preference, collect.eval, collect.prompts unset and no "
                      "synthetic world among collect.sources: they come from the embedded world"]
    out = run_pipeline(cfg, tmp_path / "w", until="collect")[0]
    datasets = tmp_path / "w" / out.dir / "datasets"
    for name in ("sft", "preference", "eval", "prompts"):
        assert len(read_jsonl(datasets / f"{name}.jsonl")) > 10, name
    assert out.metrics["docs_out"] == 50  # the pretraining corpus is the user's alone
