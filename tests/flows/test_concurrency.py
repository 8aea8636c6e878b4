"""Two runs on one workdir at once (two real processes): one writer per stage key, the other waits and
reuses what the first made; every stage ends with one directory and a manifest that verifies."""

import subprocess
import sys

import pytest

from tests.conftest import REPO
from zerollm.cache import verify

pytestmark = pytest.mark.slow
ARGS = ["--config", "configs/tiny.yaml", "--until", "pretrain",
        "--set", "collect.sources=[{type: synthetic, language: en, seed: 0, target_mb: 0.5}]",
        "--set", "tokenizer.vocab_size=1024", "--set", "pretrain.max_steps=6",
        "--set", "pretrain.shape={n_layer: 2, d_model: 64, n_head: 4, ffn_dim: 128}", "--set", "pretrain.seq_len=128",
        "--set", "pretrain.micro_batch=8", "--set", "pretrain.batch_tokens=1024", "--set", "pretrain.eval_every=3",
        "--set", "pretrain.checkpoint_every=3", "--set", "pretrain.probe.enabled=false",
        "--set", "tracking.enabled=false"]


def test_two_processes_on_one_workdir(tmp_path):
    w = tmp_path / "w"
    cmd = [sys.executable, "-m", "zerollm", "run", "--workdir", str(w), *ARGS]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    ran = {}
    for out, _ in outs:
        for line in out.splitlines():
            stage, how = line.split()[:2]
            ran.setdefault(stage, []).append(how)
    assert list(ran) == ["collect", "filter", "dedup", "tokenizer", "pretrain"]
    for stage, hows in ran.items():
        assert sorted(hows) == ["cached", "ran"], (stage, hows)  # made once, reused by the other run
        dirs = [d for d in (w / "stages" / stage).iterdir() if d.is_dir()]
        assert len(dirs) == 1 and verify(dirs[0]) is not None, dirs
