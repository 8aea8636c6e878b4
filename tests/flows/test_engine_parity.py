"""`python -m zerollm run` (no Prefect) and the Prefect flow are one runner with two executors: the same
keys, and each reuses what the other made (what either builds is the same data: test_kill_anywhere)."""

import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.flows.test_pipeline_e2e import status, zerollm

pytestmark = pytest.mark.slow
ARGS = ["--set=collect.sources=[{type: synthetic, language: en, seed: 1, target_mb: 0.1}]",
        "--set=tokenizer.vocab_size=1024", "--set=tracking.enabled=false"]


def plain(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "zerollm", *args, *ARGS], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_plain_runner_and_prefect_flow_share_keys_and_outputs(tmp_path):
    w = tmp_path / "w"
    zerollm("run", "--workdir", str(w), "--until", "dedup", *ARGS, fast=False)  # the flow builds the data stages
    built = status(w)
    plain("run", "--workdir", str(w), "--until", "tokenizer")  # the plain runner reuses them, builds the tokenizer
    after = status(w)
    assert [(s, after[s]["cache_hit"]) for s in after] == [("collect", True), ("filter", True), ("dedup", True),
                                                            ("tokenizer", False)]
    assert all(after[s]["key"] == built[s]["key"] for s in built)
    zerollm("run", "--workdir", str(w), "--until", "tokenizer", *ARGS, fast=False)  # and the flow reuses that
    assert all(s["cache_hit"] for s in status(w).values())
