"""The pretraining optimizer: AdamW, or Muon on the hidden weight matrices with AdamW on the rest.

Muon (momentum, then the update orthogonalised by Newton-Schulz iterations), as modded-nanogpt and
nanochat use it, is `torch.optim.Muon`. That class takes only 2-D parameters and is meant for hidden
layers, so the embedding (tied to the output head) and the norms stay with AdamW. The two optimizers
step, follow the learning-rate schedule and checkpoint as one.

`torch.optim.Muon` runs its Newton-Schulz iterations in bf16, hard-coded. A CPU without native bf16
(no AVX-512 bf16, no AMX) emulates those matmuls, measured 23x slower than fp32 on a 2-core EPYC with
AVX2, which made each tiny-recipe step ~10x slower. There, and only there, the same iterations run in
fp32 (`Fp32Muon`); everything else is the library's.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import torch

from zerollm.machine import cpu_bf16


def _muon_param(name: str, p: torch.Tensor) -> bool:
    return p.dim() == 2 and "embed_tokens" not in name and "lm_head" not in name


def orthogonalise_fp32(grad: torch.Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int,
                       eps: float) -> torch.Tensor:
    """The quintic Newton-Schulz iteration torch.optim.Muon uses, in fp32 instead of bf16."""
    a, b, c = ns_coefficients
    x = grad.float()
    tall = x.size(0) > x.size(1)
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return (x.T if tall else x).to(grad.dtype)


@contextlib.contextmanager
def _fp32_newton_schulz():
    from torch.optim import _muon

    library = _muon._zeropower_via_newtonschulz
    _muon._zeropower_via_newtonschulz = orthogonalise_fp32
    try:
        yield
    finally:
        _muon._zeropower_via_newtonschulz = library


class Fp32Muon(torch.optim.Muon):
    """torch.optim.Muon whose orthogonalisation runs in fp32 during its own step (see the module doc)."""

    def step(self, closure=None):
        with _fp32_newton_schulz():
            return super().step(closure)


def _muon_class(device: torch.device) -> type[torch.optim.Muon]:
    from torch.optim import _muon

    if device.type == "cuda" or cpu_bf16() or not hasattr(_muon, "_zeropower_via_newtonschulz"):
        return torch.optim.Muon
    return Fp32Muon


class Joint:
    """Several torch optimizers behaving as one for the training loop and the checkpoint."""

    def __init__(self, parts: list[torch.optim.Optimizer]):
        self.parts = parts

    @property
    def param_groups(self) -> list[dict]:
        return [g for p in self.parts for g in p.param_groups]

    def step(self) -> None:
        for p in self.parts:
            p.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parts:
            p.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict:
        return {"parts": [p.state_dict() for p in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        if len(state.get("parts", ())) != len(self.parts):
            raise ValueError("the checkpoint's optimizer is not this one (pretrain.optimizer changed?)")
        for p, s in zip(self.parts, state["parts"]):
            p.load_state_dict(s)


class JointSchedule:
    def __init__(self, optimizer: Joint, factor: Callable[[int], float]):
        self.parts = [torch.optim.lr_scheduler.LambdaLR(p, factor) for p in optimizer.parts]

    def step(self) -> None:
        for s in self.parts:
            s.step()

    def get_last_lr(self) -> list[float]:
        return [lr for s in self.parts for lr in s.get_last_lr()]

    def state_dict(self) -> dict:
        return {"parts": [s.state_dict() for s in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        for s, st in zip(self.parts, state["parts"]):
            s.load_state_dict(st)


def build(model, cfg, factor: Callable[[int], float], fused: bool):
    """(optimizer, scheduler) for `cfg.optimizer`; AdamW keeps its plain torch objects (and checkpoints)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    betas = (cfg.beta1, cfg.beta2)
    if cfg.optimizer == "adamw":
        groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": cfg.weight_decay},
                  {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=betas, fused=fused)
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)
    hidden = [p for n, p in named if _muon_param(n, p)]
    rest = [(n, p) for n, p in named if not _muon_param(n, p)]
    muon = _muon_class(hidden[0].device)(hidden, lr=cfg.muon_lr, weight_decay=cfg.weight_decay,
                                         momentum=cfg.muon_momentum, adjust_lr_fn="match_rms_adamw")
    adamw = torch.optim.AdamW([{"params": [p for _, p in rest if p.dim() >= 2], "weight_decay": cfg.weight_decay},
                               {"params": [p for _, p in rest if p.dim() < 2], "weight_decay": 0.0}],
                              lr=cfg.lr, betas=betas, fused=fused)
    opt = Joint([adamw, muon])
    return opt, JointSchedule(opt, factor)
