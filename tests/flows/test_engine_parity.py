"""`python -m zerollm run` (no Prefect) and the Prefect flow are one runner with two executors: the same
keys, the same files, and each reuses what the other made."""

import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.flows.test_kill_anywhere import content
from tests.flows.test_pipeline_e2e import status, zerollm

pytestmark = pytest.mark.slow
ARGS = ["--until", "tokenizer", "--set=collect.sources=[{type: synthetic, language: en, seed: 1, target_mb: 0.1}]",
        "--set=tokenizer.vocab_size=1024", "--set=tracking.enabled=false"]


def stage_dirs(workdir) -> dict:
    return {name: workdir / s["dir"] for name, s in status(workdir).items()}


def test_plain_runner_and_prefect_flow_agree(tmp_path):
    plain, flow = tmp_path / "plain", tmp_path / "flow"
    proc = subprocess.run([sys.executable, "-m", "zerollm", "run", "--workdir", str(plain), *ARGS], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    zerollm("run", "--workdir", str(flow), *ARGS, fast=False)
    a, b = stage_dirs(plain), stage_dirs(flow)
    assert list(a) == ["collect", "filter", "dedup", "tokenizer"]
    for name in a:
        assert a[name].name == b[name].name, name  # the same key
        assert content(a[name]) == content(b[name]), name  # the same data (run logs and gzip headers aside)

    zerollm("run", "--workdir", str(plain), *ARGS, fast=False)  # the flow on the plain runner's workdir
    assert all(s["cache_hit"] for s in status(plain).values())
