"""FSDP for pretraining: PyTorch's own `fully_shard` (FSDP2) and `torch.distributed.checkpoint`.

Each decoder layer is one shard group, then the rest of the model (embedding, final norm, output
head) the root one, so a device holds 1/world of the parameters, gradients and optimizer state, and
gathers one layer's parameters at a time. Parameters compute in bf16 where the run uses bf16
autocast, and gradients are reduced in fp32.

A checkpoint holds the sharded model and optimizer state (`dcp/`, every rank writes its part, and a
resume on the same world size reads them back exactly) beside the full model as a plain HF checkpoint
(gathered to rank 0), which is what the later stages read.
"""

from __future__ import annotations

from pathlib import Path

import torch

DCP_DIR = "dcp"


def shard(model, param_dtype: torch.dtype | None, activation_checkpointing: bool) -> None:
    """Shard `model` in place across the process group (before the optimizer is built)."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    layers = model.model.layers
    if activation_checkpointing:
        from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

        for i, layer in enumerate(layers):
            layers[i] = checkpoint_wrapper(layer)
    mp = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=torch.float32)
    for layer in layers:
        fully_shard(layer, mp_policy=mp)
    fully_shard(model, mp_policy=mp)


def full_model_state(model) -> dict:
    """The whole model's state dict on rank 0 (CPU), for the HF checkpoint; collective."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def save_sharded(model, optimizer, ckpt: Path) -> None:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    model_state, optim_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optimizer": optim_state}, checkpoint_id=str(Path(ckpt) / DCP_DIR))


def load_sharded(model, optimizer, ckpt: Path) -> None:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    model_state, optim_state = get_state_dict(model, optimizer)
    state = {"model": model_state, "optimizer": optim_state}
    dcp.load(state, checkpoint_id=str(Path(ckpt) / DCP_DIR))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])


def is_sharded(ckpt: Path) -> bool:
    return (Path(ckpt) / DCP_DIR).is_dir()
