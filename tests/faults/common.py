"""What the fault tests share: a small real pipeline run as its own process, and the checks that
nothing was lost (manifests verify, deterministic outputs equal an undisturbed run's) and nothing
is left running (no process carries the run's token)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from zerollm import lifeline
from zerollm.cache import verify
from zerollm.registry import STAGES

ARGS = ["--config", "configs/tiny.yaml",
        "--set", "collect.sources=[{type: synthetic, language: en, seed: 0, target_mb: 0.5}]",
        "--set", "tokenizer.vocab_size=1024",
        "--set", "pretrain.shape={n_layer: 2, d_model: 64, n_head: 4, ffn_dim: 128}", "--set", "pretrain.seq_len=128",
        "--set", "pretrain.micro_batch=8", "--set", "pretrain.batch_tokens=1024", "--set", "sft.max_length=128",
        "--set", "rlhf.max_length=128",
        "--set", "pretrain.max_steps=12", "--set", "pretrain.eval_every=6", "--set", "pretrain.checkpoint_every=3",
        "--set", "sft.max_steps=4", "--set", "sft.checkpoint_every=2",
        "--set", "rlhf.max_steps=2", "--set", "rlhf.checkpoint_every=1", "--set", "rlhf.onpolicy.enabled=false",
        "--set", "quantize.types=[Q8_0]", "--set", "quantize.parity_docs=4", "--set", "quantize.speed_tokens=8",
        "--set", "evaluate.models=[rlhf]", "--set", "evaluate.max_items=8", "--set", "evaluate.ppl_docs=4",
        "--set", "evaluate.max_new_tokens=8",
        *(a for s in ("pretrain", "sft", "rlhf") for a in ("--set", f"{s}.probe.enabled=false"))]
UNTRACKED = ["--set", "tracking.enabled=false"]
# Stages whose output is a pure function of their inputs: their data must be identical after any fault
# (datatrove's logs/ hold timings, and gzip headers a time stamp, so content is compared). Training
# stages resume from checkpoints with other thread schedules, so their weights' last bits may differ.
DETERMINISTIC = ("collect", "filter", "dedup", "tokenizer")


def start(workdir: Path, *extra: str, cli: bool = False, env: dict | None = None, **popen) -> subprocess.Popen:
    """`python -m zerollm run` (or the `zerollm` CLI, with its Prefect server); `proc.token` is the token
    the run took (read from its environment once it has re-executed), so that its processes can be found."""
    cmd = [str(Path(sys.executable).with_name("zerollm"))] if cli else [sys.executable, "-m", "zerollm"]
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.Popen([*cmd, "run", "--workdir", str(workdir), *extra], cwd=REPO, text=True,
                            env={**os.environ, **(env or {})}, **popen)
    deadline = time.time() + 30
    proc.token = None
    while proc.token is None and proc.poll() is None and time.time() < deadline:
        proc.token = lifeline.token_of(proc.pid)
        time.sleep(0.01)
    assert proc.token, "the run never took a token: what it leaves running could not be checked"
    return proc


def finish(proc: subprocess.Popen, timeout: float = 900) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out, err


def left_running(token: str, timeout: float = 15.0) -> list[str]:
    """The command lines of processes still carrying `token` after `timeout` (the guardian's grace)."""
    deadline = time.time() + timeout
    while lifeline.carriers(token) and time.time() < deadline:
        time.sleep(0.2)
    out = []
    for pid in lifeline.carriers(token):
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200])
        except OSError:
            pass
    return out


def content(stage_dir: Path) -> dict[str, str]:
    """Each data file's content hash (decompressed for .gz), run logs left out."""
    out = {}
    for rel in json.loads((stage_dir / "MANIFEST.json").read_text())["files"]:
        if rel.startswith("logs/"):
            continue
        data = (stage_dir / rel).read_bytes()
        out[rel] = hashlib.sha256(gzip.decompress(data) if rel.endswith(".gz") else data).hexdigest()
    return out


def manifests(workdir: Path) -> dict[str, Path]:
    """Each built stage's one output directory, checked to verify."""
    out = {}
    for stage in [s for s in STAGES.names if (workdir / "stages" / s).is_dir()]:
        done = [d for d in (workdir / "stages" / stage).iterdir() if (d / "MANIFEST.json").is_file()]
        assert len(done) == 1, (stage, done)
        assert verify(done[0]) is not None, f"{stage}: manifest does not verify"
        out[stage] = done[0]
    return out


def no_leftovers(workdir: Path) -> None:
    assert not list(workdir.glob("stages/*/*.tmp-*")), "temporary directories left behind"
