"""kill -9 at a random moment inside each stage in turn (fixed seed), rerunning after each kill: every
rerun completes, nothing half-written is ever read as done, and the final manifests equal those of an
uninterrupted run (see DETERMINISTIC for which stages are compared file by file, and why)."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from zerollm.cache import verify
from zerollm.registry import STAGES

STAGE_NAMES = STAGES.names

pytestmark = pytest.mark.slow
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
        "--set", "evaluate.max_new_tokens=8", "--set", "tracking.enabled=false",
        *(a for s in ("pretrain", "sft", "rlhf") for a in ("--set", f"{s}.probe.enabled=false"))]
# Stages whose output is a pure function of their inputs: their data must be identical after any number
# of kills (datatrove's logs/ hold timings, and gzip headers a time stamp, so content is compared).
# Training stages resume from checkpoints, but a resumed run replays steps with other thread
# schedules, so float reductions (the weights' last bits) may differ; quantize and evaluate read those
# weights, so they are checked for valid manifests and equal keys only.
DETERMINISTIC = ("collect", "filter", "dedup", "tokenizer")


def start(workdir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "zerollm", "run", "--workdir", str(workdir), *ARGS, *extra],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def content(stage_dir: Path) -> dict[str, str]:
    """Each data file's content hash (decompressed for .gz), run logs left out."""
    import gzip
    import hashlib

    out = {}
    for rel in json.loads((stage_dir / "MANIFEST.json").read_text())["files"]:
        if rel.startswith("logs/"):
            continue
        data = (stage_dir / rel).read_bytes()
        out[rel] = hashlib.sha256(gzip.decompress(data) if rel.endswith(".gz") else data).hexdigest()
    return out


def manifests(workdir: Path) -> dict:
    out = {}
    for stage in [s for s in STAGE_NAMES if (workdir / "stages" / s).is_dir()]:
        done = [d for d in (workdir / "stages" / stage).iterdir() if (d / "MANIFEST.json").is_file()]
        assert len(done) == 1, (stage, done)
        assert verify(done[0]) is not None, f"{stage}: manifest does not verify"
        out[stage] = done[0]
    return out


def test_kill_9_inside_every_stage_then_rerun(tmp_path):
    ref_dir, w = tmp_path / "reference", tmp_path / "killed"
    ref = start(ref_dir, "--until", "tokenizer")  # the deterministic stages, uninterrupted
    _, err = ref.communicate(timeout=900)
    assert ref.returncode == 0, err[-3000:]

    rng = random.Random(7)
    landed = []
    for stage in STAGE_NAMES:
        proc = start(w)
        root = w / "stages" / stage
        deadline = time.time() + 600
        mine = f"*.tmp-{proc.pid}"  # a killed run's leftovers carry its own pid
        while not list(root.glob(mine)) and proc.poll() is None:
            assert time.time() < deadline, f"{stage} never started"
            time.sleep(0.01)
        if proc.poll() is not None:
            _, err = proc.communicate()
            assert proc.returncode == 0, err[-3000:]
            break  # the run finished before this stage could be caught: nothing left to kill
        time.sleep(rng.uniform(0.0, 0.6))
        inside = bool(list(root.glob(mine)))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        landed.append((stage, inside))
        for d in root.glob("*"):  # nothing half-written is a done stage
            if d.is_dir() and not d.name.endswith((".work",)) and ".tmp-" not in d.name:
                assert verify(d) is not None, d

    final = start(w)
    _, err = final.communicate(timeout=900)
    assert final.returncode == 0, err[-3000:]
    assert sum(inside for _, inside in landed) >= 6, landed

    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig
    from zerollm.runner import plan

    sets = ARGS[3::2]  # the --set values
    planned = {p.stage: p.key for p in plan(load_config(PipelineConfig, REPO / ARGS[1], sets), w)}
    a, b = manifests(ref_dir), manifests(w)
    assert list(b) == list(STAGE_NAMES)
    for stage, d in b.items():
        assert d.name == planned[stage], stage  # the kills changed no key
    for stage in DETERMINISTIC:
        assert a[stage].name == b[stage].name and content(a[stage]) == content(b[stage]), stage
    assert not list(w.glob("stages/*/*.tmp-*")), "temporary directories of killed runs are swept"
