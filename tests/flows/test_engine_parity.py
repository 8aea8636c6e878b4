"""`python -m zerollm run` (no Prefect) and the Prefect flow are one runner with two executors: the same
keys, the same files, and each reuses what the other made."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.flows.test_pipeline_e2e import status, zerollm

pytestmark = pytest.mark.slow
ARGS = ["--until", "tokenizer", "--set=collect.sources=[{type: synthetic, language: en, seed: 1, target_mb: 0.2}]",
        "--set=tokenizer.vocab_size=1024", "--set=tracking.enabled=false"]


def manifests(workdir) -> dict[str, dict]:
    st = status(workdir)
    return {name: json.loads((workdir / s["dir"] / "MANIFEST.json").read_text()) for name, s in st.items()}


def test_plain_runner_and_prefect_flow_agree(tmp_path):
    plain, flow = tmp_path / "plain", tmp_path / "flow"
    proc = subprocess.run([sys.executable, "-m", "zerollm", "run", "--workdir", str(plain), *ARGS], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    zerollm("run", "--workdir", str(flow), *ARGS, fast=False)
    a, b = manifests(plain), manifests(flow)
    assert list(a) == ["collect", "filter", "dedup", "tokenizer"]
    for name in a:
        assert a[name]["key"] == b[name]["key"], name
        assert {f: m["sha256"] for f, m in a[name]["files"].items()} == \
               {f: m["sha256"] for f, m in b[name]["files"].items()}, name

    zerollm("run", "--workdir", str(plain), *ARGS, fast=False)  # the flow on the plain runner's workdir
    assert all(s["cache_hit"] for s in status(plain).values())
