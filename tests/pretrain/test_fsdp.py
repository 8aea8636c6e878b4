"""FSDP beside DDP on CPU: two gloo processes, the tiny shape, the same global batch. The loss curves of
one process, DDP and FSDP agree, and an FSDP run killed with SIGKILL resumes exactly."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from tests.pretrain.test_pretrain import cfg, losses, token_dir
from zerollm.pretrain.train import train

STEPS = 40


def torchrun(config, data, work, **popen):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m",
           "zerollm.pretrain", "--data", str(data), "--work", str(work), "--config-json", config.model_dump_json(),
           "--summary", str(work / "summary.json")]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True, **popen)


def finish(proc, timeout=600):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]


def two_process(strategy, **kw):
    return cfg(**{"max_steps": STEPS, "devices": 2, "device": "cpu", "strategy": strategy, "eval_every": 20,
                  "checkpoint_every": 20, **kw})


@pytest.mark.slow
def test_fsdp_ddp_and_one_process_agree_over_40_steps(tmp_path):
    data = token_dir(tmp_path)
    train(cfg(max_steps=STEPS, eval_every=20, checkpoint_every=20), data, tmp_path / "one")
    for strategy in ("ddp", "fsdp"):
        finish(torchrun(two_process(strategy), data, tmp_path / strategy))
    one, ddp, fsdp = (np.array([l for _, l in losses(tmp_path / w)]) for w in ("one", "ddp", "fsdp"))
    assert len(one) == len(ddp) == len(fsdp) == STEPS
    assert np.abs(fsdp - one).max() < 0.05 and np.abs(ddp - one).max() < 0.05 and np.abs(fsdp - ddp).max() < 0.05
    assert fsdp[-1] < fsdp[0] - 1.0  # it learns
    summary = json.loads((tmp_path / "fsdp" / "summary.json").read_text())
    assert summary["strategy"] == "fsdp" and summary["world_size"] == 2
    # the released checkpoint is a plain HF Llama with the shards beside it
    from transformers import AutoModelForCausalLM

    ckpt = sorted((tmp_path / "fsdp").glob("ckpt-*"))[-1]
    assert (ckpt / "dcp").is_dir() and (ckpt / "model.safetensors").is_file()
    AutoModelForCausalLM.from_pretrained(ckpt, use_safetensors=True)


@pytest.mark.slow
def test_fsdp_killed_mid_run_resumes_exactly(tmp_path):
    data = token_dir(tmp_path)
    config = two_process("fsdp", max_steps=120, checkpoint_every=20, eval_every=60)  # long enough to kill
    finish(torchrun(config, data, tmp_path / "full"))
    proc = torchrun(config, data, tmp_path / "killed")
    deadline = time.time() + 300
    while time.time() < deadline and not list((tmp_path / "killed").glob("ckpt-*")):  # once one checkpoint is in
        time.sleep(0.02)
    # the whole job at once, as a node failure would: torchrun starts its workers in their own sessions
    for p in [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]:
        p.send_signal(signal.SIGKILL)
    proc.communicate()
    logged = losses(tmp_path / "killed")
    assert logged and logged[-1][0] < 120  # it really died mid-run
    finish(torchrun(config, data, tmp_path / "killed"))
    summary = json.loads((tmp_path / "killed" / "summary.json").read_text())
    assert 20 <= summary["resumed_from_step"] < 120 and summary["steps"] == 120
    assert losses(tmp_path / "killed") == losses(tmp_path / "full")  # every step once, the same losses


def test_fsdp_with_muon_is_one_config_line():
    from zerollm.config import ConfigError, load_config
    from zerollm.pipeline_config import PipelineConfig

    with pytest.raises(ConfigError, match=r"pretrain\.strategy=fsdp: optimizer muon .* allowed with fsdp: "
                                          r"optimizer adamw"):
        load_config(PipelineConfig, None, ["pretrain.strategy=fsdp", "pretrain.devices=2",
                                           "pretrain.optimizer=muon", "pretrain.batch_tokens=8192"])


@pytest.mark.slow
def test_fsdp_activation_checkpointing_same_curve_plain_names(tmp_path):
    """Recomputing each layer in the backward pass changes memory, not the numbers; the released model
    keeps the plain HF names (no checkpoint-wrapper prefix)."""
    from safetensors import safe_open

    data = token_dir(tmp_path)
    finish(torchrun(two_process("fsdp", activation_checkpointing=True, max_steps=10), data, tmp_path / "ac"))
    finish(torchrun(two_process("fsdp", max_steps=10), data, tmp_path / "plain"))
    assert losses(tmp_path / "ac") == losses(tmp_path / "plain")
    with safe_open(str(sorted((tmp_path / "ac").glob("ckpt-*"))[-1] / "model.safetensors"), "pt") as f:
        names = set(f.keys())
    assert "model.layers.0.mlp.down_proj.weight" in names and not any("checkpoint" in n for n in names)
