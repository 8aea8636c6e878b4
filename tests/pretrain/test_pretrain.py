import json
import math

import numpy as np
import pytest

from zerollm.config import ConfigError, load_config
from zerollm.pretrain.config import PretrainConfig
from zerollm.pretrain.train import lr_factor, train

SHAPE = {"n_layer": 2, "d_model": 64, "n_head": 2, "ffn_dim": 128}


def token_dir(tmp_path, vocab=97, n_train=20000, n_val=2000):
    """A tokenizer-stage-like directory: a repeating pattern with noise, so loss can fall."""
    d = tmp_path / "tok"
    d.mkdir()
    rng = np.random.default_rng(0)
    pattern = rng.integers(4, vocab, size=50)
    for name, n in (("train", n_train), ("val", n_val)):
        toks = np.resize(pattern, n).astype(np.uint16)
        noise = rng.random(n) < 0.1
        toks[noise] = rng.integers(4, vocab, size=int(noise.sum()))
        toks.tofile(d / f"{name}.bin")
    index = {"dtype": "uint16", "vocab_size": vocab, "bos_id": 1, "eos_id": 2, "pad_id": 3, "separator": "eos",
             "files": {"train": {"tokens": "train.bin"}, "val": {"tokens": "val.bin"}},
             "train": {"tokens": n_train, "docs": 1, "bytes": n_train * 3},
             "val": {"tokens": n_val, "docs": 1, "bytes": n_val * 3}}
    (d / "index.json").write_text(json.dumps(index))
    return d


def cfg(**kw):
    base = dict(preset="custom", shape=SHAPE, seq_len=32, micro_batch=4, batch_tokens=256, max_steps=8,
                warmup_steps=2, lr=3e-3, log_every=1, eval_every=4, eval_batches=2, checkpoint_every=4,
                samples=0, num_threads=1)
    return PretrainConfig(**{**base, **kw})


def losses(work):
    rows = [json.loads(x) for x in (work / "metrics.jsonl").read_text().splitlines() if x.strip()]
    return [(h["step"], h["train_loss"]) for h in rows if "train_loss" in h]


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_resumed_losses_equal_uninterrupted(tmp_path, optimizer):
    """Muon's momentum and AdamW's moments both come back from the checkpoint: the curve is unbroken."""
    data = token_dir(tmp_path)
    full = train(cfg(optimizer=optimizer), data, tmp_path / "full")
    # a "crash" at step 6: steps 5-6 were logged but the last checkpoint is step 4, so they are redone
    first = train(cfg(optimizer=optimizer), data, tmp_path / "crashy", stop_after=6)
    assert first["steps"] == 6
    resumed = train(cfg(optimizer=optimizer), data, tmp_path / "crashy")
    assert resumed["resumed_from_step"] == 4 and resumed["steps"] == 8
    assert losses(tmp_path / "crashy") == losses(tmp_path / "full")  # whole curve, each step once
    assert full["val_loss"] == resumed["val_loss"]
    assert losses(tmp_path / "full")[-1][1] < losses(tmp_path / "full")[0][1]  # it learns


def test_resume_after_the_final_checkpoint_still_reports(tmp_path):
    data = token_dir(tmp_path)
    done = train(cfg(), data, tmp_path / "w")
    again = train(cfg(), data, tmp_path / "w")  # crashed between the last checkpoint and the stage's commit
    assert again["resumed_from_step"] == 8
    assert again["train_loss"] == done["train_loss"] and again["val_loss"] == done["val_loss"]


def test_final_checkpoint_loads_with_transformers_and_generates(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    data = token_dir(tmp_path)
    train(cfg(max_steps=4), data, tmp_path / "w")
    ckpt = sorted((tmp_path / "w").glob("ckpt-*"))[-1]
    assert (ckpt / "model.safetensors").is_file() and not list(ckpt.glob("*.bin"))
    model = AutoModelForCausalLM.from_pretrained(ckpt)
    out = model.generate(torch.tensor([[5, 6, 7]]), max_new_tokens=5, do_sample=False, pad_token_id=3)
    assert out.shape == (1, 8)


def test_keeps_only_the_newest_checkpoints(tmp_path):
    data = token_dir(tmp_path)
    train(cfg(checkpoint_every=2, keep_checkpoints=2), data, tmp_path / "w")
    assert [p.name for p in sorted((tmp_path / "w").glob("ckpt-*"))] == ["ckpt-00000006", "ckpt-00000008"]


def test_schedules():
    c = cfg(max_steps=100, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_factor(0, c) == pytest.approx(0.1) and lr_factor(9, c) == pytest.approx(1.0)
    assert lr_factor(10, c) == pytest.approx(1.0) and lr_factor(100, c) == pytest.approx(0.1)
    assert lr_factor(55, c) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    w = cfg(max_steps=100, warmup_steps=10, schedule="wsd", wsd_decay_frac=0.2)
    assert lr_factor(50, w) == 1.0 and lr_factor(79, w) == 1.0 and lr_factor(100, w) == pytest.approx(0.1)


def test_config_errors_name_the_key():
    from zerollm.pipeline_config import PipelineConfig

    with pytest.raises(ConfigError, match=r"pretrain: .*batch_tokens=1000 must be a multiple"):
        load_config(PipelineConfig, None, ["pretrain.batch_tokens=1000"])
    with pytest.raises(ConfigError, match=r"pretrain.preset: Input should be 'tiny'"):
        load_config(PipelineConfig, None, ["pretrain.preset=2b"])
    with pytest.raises(ConfigError, match=r"needs pretrain.shape"):
        load_config(PipelineConfig, None, ["pretrain.preset=custom"])


def test_presets_keep_widths_multiple_of_256():
    from zerollm.pretrain.presets import PRESETS

    for name, s in PRESETS.items():
        assert s.d_model % 256 == 0 and s.ffn_dim % 256 == 0, name
    assert (PRESETS["124m"].n_layer, PRESETS["124m"].d_model, PRESETS["124m"].n_head) == (12, 768, 12)


def test_two_process_ddp_matches_one_process(tmp_path):
    """torchrun with 2 CPU processes (gloo), same global batch: same loss curve within float noise."""
    import os
    import subprocess
    import sys

    data = token_dir(tmp_path)
    one = cfg(max_steps=6)
    train(one, data, tmp_path / "one")
    two = cfg(max_steps=6, devices=2, device="cpu")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m",
           "zerollm.pretrain", "--data", str(data), "--work", str(tmp_path / "two"), "--config-json",
           two.model_dump_json(), "--summary", str(tmp_path / "two" / "summary.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "two" / "summary.json").read_text())["world_size"] == 2
    a, b = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert [s for s, _ in a] == [s for s, _ in b]
    assert np.allclose([l for _, l in a], [l for _, l in b], rtol=1e-4, atol=1e-5), (a, b)


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_stage_with_two_devices_launches_torchrun_and_publishes_the_model(tmp_path, strategy):
    import logging

    from zerollm.pretrain import stage
    from zerollm.stage import StageContext

    data = token_dir(tmp_path)
    logged = []
    ctx = StageContext(workdir=tmp_path, log=logging.getLogger("t"), scratch=tmp_path / "scratch",
                       log_metrics=lambda m, step=None: logged.append((step, m)))
    out = tmp_path / "out"
    out.mkdir()
    res = stage.run(cfg(max_steps=4, devices=2, device="cpu", strategy=strategy), {"tokenizer": data}, out, ctx)
    assert res.metrics["world_size"] == 2 and res.metrics["steps"] == 4
    assert not (out / "model" / "dcp").exists()  # the released model is the plain HF one, not the shards
    assert (out / "model" / "model.safetensors").is_file() and (out / "loss_curve.png").is_file()
    assert not (out / "model" / "trainer_state.pt").exists()  # optimizer state is not part of the output
    assert [s for s, m in logged if "train_loss" in m] == [1, 2, 3, 4]
    assert any("val_loss" in m for _, m in logged)
