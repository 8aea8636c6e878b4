"""pretrain: model shape, batch, schedule, checkpoints. Every default is the CPU tiny recipe's."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from zerollm.config import StrictModel
from zerollm.probe import ProbeConfig


class ModelShape(StrictModel):
    n_layer: int = Field(..., ge=1, description="Transformer blocks.")
    d_model: int = Field(..., ge=16, description="Hidden width (keep a multiple of 256 for llama.cpp K-quants).")
    n_head: int = Field(..., ge=1, description="Attention heads.")
    n_kv_head: int | None = Field(None, ge=1, description="Key/value heads (grouped-query attention); default n_head.")
    ffn_dim: int = Field(..., ge=16, description="SwiGLU hidden width (a multiple of 256 where possible).")
    rope_theta: float = Field(10000.0, gt=0, description="RoPE base.")

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.d_model % self.n_head:
            raise ValueError(f"d_model={self.d_model} must be divisible by n_head={self.n_head}")
        if self.n_head % (self.n_kv_head or self.n_head):
            raise ValueError(f"n_head={self.n_head} must be divisible by n_kv_head={self.n_kv_head}")
        return self


class PretrainConfig(StrictModel):
    preset: Literal["tiny", "20m", "124m", "350m", "1b", "custom"] = Field(
        "tiny", description="Model size; 'custom' takes `shape`. tiny: CPU default, ~5M params with a 4k vocab.")
    shape: ModelShape | None = Field(None, description="Explicit dimensions (with preset: custom).")
    tie_embeddings: bool = Field(True, description="Share input embedding and output head weights.")
    seq_len: int = Field(256, ge=8, le=131072, description="Tokens per training sequence (context length).")
    micro_batch: int = Field(16, ge=1, description="Sequences per device per forward/backward.")
    batch_tokens: int = Field(4096, ge=8,
                              description="Tokens per optimizer step across all devices; reached by gradient "
                                          "accumulation. Must be a multiple of micro_batch x seq_len x devices.")
    max_steps: int = Field(240, ge=1, description="Optimizer steps.")
    optimizer: Literal["adamw", "muon"] = Field(
        "adamw", description="adamw, or muon: torch.optim.Muon on the hidden weight matrices, AdamW (at `lr`) on "
                             "the embedding and the norms.")
    lr: float = Field(3e-3, gt=0, description="Peak learning rate (AdamW).")
    muon_lr: float = Field(2e-3, gt=0, description="optimizer: muon: peak learning rate of the hidden matrices, "
                                                   "scaled to match AdamW's update size (adjust_lr_fn="
                                                   "match_rms_adamw), so it is on AdamW's scale.")
    muon_momentum: float = Field(0.95, ge=0, lt=1, description="optimizer: muon: momentum.")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="Final learning rate as a fraction of `lr`.")
    warmup_steps: int = Field(20, ge=0, description="Linear warmup steps.")
    schedule: Literal["cosine", "wsd"] = Field("cosine", description="cosine decay, or warmup-stable-decay.")
    wsd_decay_frac: float = Field(0.2, gt=0, le=1, description="WSD: fraction of steps spent decaying.")
    weight_decay: float = Field(0.1, ge=0, description="AdamW weight decay (matrices only).")
    beta1: float = Field(0.9, ge=0, lt=1, description="AdamW beta1.")
    beta2: float = Field(0.95, ge=0, lt=1, description="AdamW beta2.")
    grad_clip: float = Field(1.0, ge=0, description="Clip the global gradient norm (0: off).")
    eval_every: int = Field(80, ge=1, description="Validate every N steps (and at the end).")
    eval_batches: int = Field(8, ge=1, description="Micro-batches of the val shard per validation.")
    log_every: int = Field(10, ge=1, description="Log training metrics every N steps.")
    samples: int = Field(3, ge=0, description="Continuations generated at each validation (logged as text).")
    sample_tokens: int = Field(40, ge=1, description="Tokens per generated continuation.")
    checkpoint_every: int = Field(80, ge=1, description="Save a resumable checkpoint every N steps.")
    keep_checkpoints: int = Field(2, ge=1, description="Resumable checkpoints kept (older ones deleted).")
    devices: int = Field(1, ge=1, le=1024, description=">1 launches torchrun with that many processes (GPUs).")
    strategy: Literal["ddp", "fsdp"] = Field(
        "ddp", description="Multi-device strategy: ddp (a whole model per device; fastest where it fits) or fsdp "
                           "(PyTorch's fully_shard: parameters, gradients and optimizer state split across the "
                           "devices, for models whose training state does not fit one).")
    activation_checkpointing: bool = Field(
        False, description="strategy: fsdp: recompute each decoder layer in the backward pass (less memory, "
                           "about a third more compute).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when available.")
    compile: Literal["auto", "on", "off"] = Field("auto", description="torch.compile (auto: on for CUDA).")
    kernels: Literal["auto", "liger", "torch"] = Field(
        "auto", description="Fused RMSNorm, RoPE, SwiGLU and linear cross-entropy from Liger Kernel (Triton, CUDA "
                            "only) or plain PyTorch (auto: Liger on CUDA when liger-kernel is installed).")
    attention: Literal["auto", "flash", "cudnn", "efficient", "math"] = Field(
        "auto", description="SDPA backend (auto: PyTorch's choice; cuDNN on Hopper).")
    dtype: Literal["auto", "bf16", "fp32"] = Field("auto", description="Autocast dtype (auto: bf16 on CUDA, fp32 on CPU).")
    num_threads: int = Field(0, ge=0, description="CPU threads for torch (0: all cores).",
                             json_schema_extra={"cache_key": False})
    seed: int = Field(0, description="Seed for init and data order.")
    init: Literal["scratch", "continue", "auto"] = Field(
        "scratch", description="scratch: random weights, the whole corpus. continue: start from the parent model "
                               "(`parent`; default the newest pretrained model of this workdir), keep its tokenizer, "
                               "and train on the tokens it has not seen, with `replay`. auto: continue when the "
                               "workdir has a pretrained model, else scratch (a scheduled deployment's first run).")
    parent: str | None = Field(None, description="init: continue: the pretrain output directory to start from "
                                                 "(stages/pretrain/<key>, relative to the workdir or absolute).")
    replay: float = Field(0.45, ge=0, lt=1, description="init: continue: share of each batch drawn from tokens the "
                                                        "parent already trained on, against forgetting.")
    rewarm_steps: int = Field(10, ge=0, description="init: continue: linear warmup back up to the continued peak "
                                                    "(the parent's schedule ended low), then the usual decay.")
    continue_lr_ratio: float = Field(0.1, gt=0, le=1, description="init: continue: peak learning rate as a fraction "
                                                                  "of `lr`; 0.1 is where a cosine run ends (a short "
                                                                  "continuation at the full peak forgets more than "
                                                                  "it learns).")
    continue_steps: int | None = Field(
        None, ge=1, description="init: continue: optimizer steps. Default: as many passes over the new tokens as "
                                "max_steps makes over the parent's, i.e. max_steps x new / old tokens / (1 - replay).")
    probe: ProbeConfig = Field(default_factory=ProbeConfig, description="Held-out fact probe on the final model.")
    profile_steps: int = Field(0, ge=0, description="Debug: profile this many steps (after 20 warm-up steps) with "
                                                    "torch.profiler into <work>/profile.txt; 0 = off.",
                               json_schema_extra={"cache_key": False})

    @field_validator("compile", mode="before")
    @classmethod
    def _yaml_on_off(cls, v):
        return {True: "on", False: "off"}.get(v, v) if isinstance(v, bool) else v  # YAML reads on/off as booleans

    @model_validator(mode="after")
    def _check(self):
        if self.preset == "custom" and self.shape is None:
            raise ValueError("pretrain.preset=custom needs pretrain.shape")
        if self.preset != "custom" and self.shape is not None:
            raise ValueError("pretrain.shape is only read with pretrain.preset=custom")
        if self.strategy == "fsdp" and self.devices > 1 and self.optimizer == "muon":
            raise ValueError("pretrain.strategy=fsdp: optimizer muon orthogonalises whole matrices, which fsdp "
                             "splits across devices; allowed with fsdp: optimizer adamw")
        per_step = self.micro_batch * self.seq_len * self.devices
        if self.batch_tokens % per_step:
            raise ValueError(f"pretrain.batch_tokens={self.batch_tokens} must be a multiple of micro_batch x "
                             f"seq_len x devices = {per_step}")
        return self

    @property
    def grad_accum(self) -> int:
        return self.batch_tokens // (self.micro_batch * self.seq_len * self.devices)
