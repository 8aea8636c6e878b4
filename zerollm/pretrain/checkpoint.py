"""Resumable checkpoints: the model in Hugging Face format (safetensors) plus optimizer, scheduler,
step, data position and RNG states. Loaded with `weights_only=True`: nothing is unpickled."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

STATE = "trainer_state.pt"
PREFIX = "ckpt-"


def rng_state() -> dict:
    np_state = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(tuple(x if not isinstance(x, list) else tuple(x) for x in state["python"]))
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), *n[2:]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(work_dir: Path, step: int, model, optimizer, scheduler, extra: dict, tokenizer_dir: Path | None,
         keep: int) -> Path:
    """Write ckpt-<step>/ atomically (temp dir + rename) and prune old ones."""
    final, tmp = _dirs(work_dir, step)
    _fresh(tmp)
    _commit(work_dir, final, tmp, model, None, {"optimizer": optimizer.state_dict()}, scheduler, step, extra,
            tokenizer_dir, keep)
    return final


def save_sharded(work_dir: Path, step: int, model, optimizer, scheduler, extra: dict, tokenizer_dir: Path | None,
                 keep: int, main: bool) -> Path:
    """`save` for an FSDP model, called on every rank: the shards of model and optimizer (`dcp/`, written
    by every rank) and, from rank 0, the whole model as a plain HF checkpoint beside them."""
    import torch.distributed as dist

    from zerollm.pretrain import sharding

    final, tmp = _dirs(work_dir, step)
    if main:
        _fresh(tmp)
    dist.barrier()
    sharding.save_sharded(model, optimizer, tmp)
    full = sharding.full_model_state(model)
    if main:  # the caller's barrier follows: no rank goes on before the rename
        _commit(work_dir, final, tmp, model, full, {}, scheduler, step, extra, tokenizer_dir, keep)
    return final


def _dirs(work_dir: Path, step: int) -> tuple[Path, Path]:
    final = work_dir / f"{PREFIX}{step:08d}"
    return final, work_dir / f".{final.name}.tmp"


def _fresh(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)


def _commit(work_dir: Path, final: Path, tmp: Path, model, model_state: dict | None, state: dict, scheduler,
            step: int, extra: dict, tokenizer_dir: Path | None, keep: int) -> None:
    """The HF model (`model_state`: its whole state dict, or None for the model's own), tokenizer and
    trainer state into `tmp`, then renamed to `final`; checkpoints beyond the newest `keep` pruned."""
    model.save_pretrained(tmp, state_dict=model_state, safe_serialization=True)
    if tokenizer_dir is not None:
        copy_tokenizer(tokenizer_dir, tmp)
    torch.save({**state, "scheduler": scheduler.state_dict(), "step": step, "rng": rng_state(), **extra}, tmp / STATE)
    (tmp / "trainer_state.json").write_text(json.dumps({"step": step, **extra}, indent=2))
    with open(tmp / STATE, "rb") as f:
        os.fsync(f.fileno())
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in sorted(work_dir.glob(f"{PREFIX}*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def copy_tokenizer(tokenizer_dir: Path, dest: Path) -> None:
    for f in Path(tokenizer_dir).iterdir():
        if f.is_file():
            shutil.copy2(f, dest / f.name)


def latest(work_dir: Path) -> Path | None:
    """The newest complete checkpoint (a directory whose trainer state was written)."""
    done = [p for p in sorted(Path(work_dir).glob(f"{PREFIX}*")) if (p / STATE).is_file()]
    return done[-1] if done else None


def export_model(ckpt: Path, dest: Path) -> None:
    """The HF checkpoint (weights, config, tokenizer) of `ckpt` into `dest`; the optimizer state stays behind."""
    dest.mkdir(parents=True)
    for f in ckpt.iterdir():
        if f.is_file() and f.name not in (STATE, "trainer_state.json"):  # not the FSDP shards (dcp/)
            shutil.copy2(f, dest / f.name)


def load_state(ckpt: Path) -> dict:
    return torch.load(ckpt / STATE, map_location="cpu", weights_only=True)


def load_weights(model, ckpt: Path) -> None:
    from safetensors.torch import load_file

    state = {}
    for f in sorted(ckpt.glob("*.safetensors")):
        state.update(load_file(f))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and model.config.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f"checkpoint {ckpt} does not match the model: missing {missing}, unexpected {unexpected}")
    if model.config.tie_word_embeddings:
        model.tie_weights()
