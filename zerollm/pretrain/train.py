"""The training loop. One code path for CPU, one GPU and torchrun (DDP/FSDP); no Prefect, no MLflow:
metrics go to a callback (rank 0), so this runs on a bare GPU box.

    resume? -> build model -> for each step: accumulate micro-batches, clip, step, schedule
            -> log / validate / sample / checkpoint
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from zerollm.machine import use_bf16
from zerollm.mfu import model_flops_per_token, mfu, peak_flops
from zerollm.pretrain import checkpoint, kernels, optim, sharding
from zerollm.pretrain.attention import register as register_causal_attention
from zerollm.pretrain.config import PretrainConfig
from zerollm.pretrain.data import ReplayMix, TokenWindows, read_continuation, read_index
from zerollm.pretrain.presets import llama_config

log = logging.getLogger("zerollm.pretrain")
Metrics = Callable[[dict, int], None]


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_dist(device_type: str) -> Dist:
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Dist()
    import torch.distributed as dist

    d = Dist(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    if device_type == "cuda":
        torch.cuda.set_device(d.local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return d


def lr_factor(step: int, cfg: PretrainConfig) -> float:
    """Multiplier of cfg.lr after `step` optimizer steps: linear warmup, then cosine or WSD."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    lo = cfg.min_lr_ratio
    if cfg.schedule == "wsd":
        decay_start = cfg.max_steps * (1 - cfg.wsd_decay_frac)
        if step < decay_start:
            return 1.0
        return lo + (1 - lo) * max(0.0, (cfg.max_steps - step) / max(cfg.max_steps - decay_start, 1))
    progress = (step - cfg.warmup_steps) / max(cfg.max_steps - cfg.warmup_steps, 1)
    return lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def train(cfg: PretrainConfig, data_dir: Path, work_dir: Path, on_metrics: Metrics | None = None,
          stop_after: int | None = None) -> dict:
    """Train (or resume) into work_dir; returns summary metrics. `stop_after` ends early after that
    step's checkpoint (tests use it to stand in for a crash)."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
                          else "cpu")
    dist = init_dist(device.type)
    if dist.world != cfg.devices:
        raise ValueError(f"pretrain.devices={cfg.devices} but {dist.world} processes were started: the batch "
                         "split would not match pretrain.batch_tokens")
    if device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    elif cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    amp_dtype = torch.bfloat16 if use_bf16(cfg.dtype, device.type == "cuda") else None
    use_compile = cfg.compile == "on" or (cfg.compile == "auto" and device.type == "cuda")
    emit = on_metrics if (on_metrics and dist.main) else (lambda m, s: None)

    index = read_index(data_dir)
    vocab = index["vocab_size"]
    train_file = Path(data_dir) / index["files"]["train"]["tokens"]
    cont = read_continuation(work_dir)
    if cont is None:
        train_data = TokenWindows(train_file, index["dtype"], cfg.seq_len, cfg.seed)
    else:  # new tokens, with a share of replayed old ones
        old = (TokenWindows(train_file, index["dtype"], cfg.seq_len, cfg.seed + 1, ranges=cont["old"])
               if cont["replay"] > 0 and sum(b - a for a, b in cont["old"]) > cfg.seq_len else None)
        train_data = ReplayMix(TokenWindows(train_file, index["dtype"], cfg.seq_len, cfg.seed, ranges=cont["new"]),
                               old, cont["replay"])
    val_data = TokenWindows(Path(data_dir) / index["files"]["val"]["tokens"], index["dtype"], cfg.seq_len,
                            cfg.seed, shuffle=False)
    tokenizer_dir = Path(data_dir) / "hf" if (Path(data_dir) / "hf").is_dir() else None

    from transformers import LlamaForCausalLM

    torch.manual_seed(cfg.seed)
    model_config = llama_config(cfg, vocab, index["bos_id"], index["eos_id"], index["pad_id"])
    model_config._attn_implementation = register_causal_attention()
    model = LlamaForCausalLM(model_config).to(device)
    fused = kernels.choose(cfg.kernels, device)
    kernels.apply(model, fused)
    n_params = sum(p.numel() for p in model.parameters())
    fpt = model_flops_per_token(model, cfg.seq_len)
    sharded = dist.world > 1 and cfg.strategy == "fsdp"
    ckpt = checkpoint.latest(work_dir)
    if ckpt is None and cont is not None:  # the parent's weights, whole, before any sharding
        checkpoint.load_weights(model, Path(cont["init_from"]))
        if dist.main:
            log.info("continuing from %s", cont["init_from"])
    if sharded:  # before the optimizer: it must hold the shards
        sharding.shard(model, amp_dtype, cfg.activation_checkpointing)
    optimizer, scheduler = optim.build(model, cfg, lambda s: lr_factor(s, cfg), fused=device.type == "cuda")

    step, resumed_from = 0, 0
    if ckpt is not None:
        state = checkpoint.load_state(ckpt)
        if sharded:
            sharding.load_sharded(model, optimizer, ckpt)
        else:
            checkpoint.load_weights(model, ckpt)
            optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        checkpoint.set_rng_state(state["rng"])
        step = resumed_from = int(state["step"])
        if dist.main:
            log.info("resuming from %s (step %d)", ckpt, step)

    fwd_model = _wrap_distributed(model, cfg, device, dist) if dist.world > 1 and not sharded else model
    autocast = (lambda: torch.autocast(device.type, dtype=amp_dtype)) if amp_dtype else nullcontext
    peak = peak_flops(device)
    peak = peak * dist.world if peak else None  # MFU of the whole job: every GPU's peak
    windows_per_micro = cfg.micro_batch
    windows_per_step = cfg.batch_tokens // cfg.seq_len

    # Uncompiled on CPU, the fp32 upcast of the logits and the cross-entropy over the vocabulary are
    # separate memory-bound passes (~15 % of a tiny model's step); PyTorch's CPU kernels accumulate a
    # bf16 log-softmax in fp32, so there the loss is taken on the bf16 logits directly.
    upcast = not (device.type == "cpu" and amp_dtype == torch.bfloat16 and not use_compile)

    # Liger's fused cross-entropy reads the whole output matrix, which FSDP splits across the ranks
    causal_lm_loss = kernels.causal_lm_loss("torch" if sharded else fused, upcast)

    def loss_fn(batch: torch.Tensor) -> torch.Tensor:
        return causal_lm_loss(model, fwd_model, batch[:, :-1], batch[:, 1:], autocast, lambda: _sdpa(cfg.attention))

    # compile the loss with the model, so the fp32 upcast and the cross-entropy over the vocabulary
    # fuse instead of running as separate memory-bound kernels
    loss_of = torch.compile(loss_fn) if use_compile else loss_fn

    def to_device(arr) -> torch.Tensor:
        t = torch.from_numpy(arr)
        return t.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else t

    # the curve so far lives in metrics.jsonl beside the checkpoints: after a resume it is cut back to
    # the checkpoint's step and replayed, so the stage's MLflow run and plot show the whole run once
    history = _resume_history(work_dir, step) if dist.main else []
    for row in history:
        emit({k: v for k, v in row.items() if k != "step"}, row["step"])

    def record(m: dict, at: int) -> None:
        if not dist.main:
            return
        history.append({"step": at, **m})
        with open(work_dir / METRICS, "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": at, **m}) + "\n")
        emit(m, at)

    t_last, tokens_since = time.time(), 0
    profiler = _Profiler(cfg, work_dir, step) if dist.main and cfg.profile_steps else None
    while step < cfg.max_steps:
        if profiler:
            profiler.tick(step)
        model.train()
        base = step * windows_per_step
        loss_sum = torch.zeros((), device=device)
        for a in range(cfg.grad_accum):
            first = base + (a * dist.world + dist.rank) * windows_per_micro
            batch = to_device(train_data.batch(first, windows_per_micro))
            sync = a == cfg.grad_accum - 1 or dist.world == 1
            ctx = fwd_model.no_sync() if (not sync and hasattr(fwd_model, "no_sync")) else nullcontext()
            with ctx:
                loss = loss_of(batch) / cfg.grad_accum
                loss.backward()
            loss_sum += loss.detach()
        grad_norm = (torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip) if cfg.grad_clip > 0
                     else torch.zeros(()))
        if hasattr(grad_norm, "full_tensor"):  # FSDP: a DTensor
            grad_norm = grad_norm.full_tensor()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens_since += cfg.batch_tokens
        if step % cfg.log_every == 0 or step == cfg.max_steps or step == 1:
            if dist.world > 1:  # same condition on every rank, so only logged steps pay for the collective
                torch.distributed.all_reduce(loss_sum, op=torch.distributed.ReduceOp.AVG)
            now = time.time()
            tps = tokens_since / max(now - t_last, 1e-9)
            # .item() syncs the device, once per log interval
            m = {"train_loss": loss_sum.item(), "lr": scheduler.get_last_lr()[0], "grad_norm": float(grad_norm),
                 "tokens_per_s": tps, "tokens_seen": step * cfg.batch_tokens}
            if peak:
                m["mfu"] = mfu(fpt, tps, peak)
            record(m, step)
            t_last, tokens_since = time.time(), 0
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            v = evaluate(model, val_data, cfg, index, autocast, device, to_device)
            record(v, step)
            if dist.main and not sharded and cfg.samples and tokenizer_dir is not None:  # sharded: no rank alone
                _write_samples(model, tokenizer_dir, val_data, cfg, device, work_dir, step)  # can run the model
            t_last = time.time()  # validation time is not training throughput
        if step % cfg.checkpoint_every == 0 or step == cfg.max_steps:
            extra = {"windows_consumed": step * windows_per_step, "resumed_from_step": resumed_from}
            if sharded:  # every rank writes its shards
                checkpoint.save_sharded(work_dir, step, model, optimizer, scheduler, extra, tokenizer_dir,
                                        cfg.keep_checkpoints, dist.main)
            elif dist.main:
                checkpoint.save(work_dir, step, model, optimizer, scheduler, extra, tokenizer_dir,
                                cfg.keep_checkpoints)
            if dist.world > 1:
                torch.distributed.barrier()
            t_last = time.time()
        if stop_after is not None and step >= stop_after:
            break

    summary = {"params": n_params, "flops_per_token": fpt, "steps": step, "resumed_from_step": resumed_from,
               "grad_accum": cfg.grad_accum, "world_size": dist.world, "device": str(device),
               "compiled": use_compile, "kernels": fused, "strategy": cfg.strategy if dist.world > 1 else "single",
               "train_flops": float(fpt) * cfg.batch_tokens * step}
    trained = [h for h in history if "train_loss" in h]
    val = [h for h in history if "val_loss" in h]
    if trained:
        summary["train_loss"] = trained[-1]["train_loss"]
    if val:
        summary.update(val_loss=val[-1]["val_loss"], val_bpb=val[-1]["val_bpb"])
    # throughput of this attempt, without its first interval (compile, warm-up)
    tps = [h["tokens_per_s"] for h in trained if h["step"] > resumed_from][1:] or [
        h["tokens_per_s"] for h in trained]
    if tps:
        summary["tokens_per_s"] = sorted(tps)[len(tps) // 2]
        if peak:
            summary["mfu"] = mfu(fpt, summary["tokens_per_s"], peak)
    return summary


@torch.no_grad()
def evaluate(model, val_data: TokenWindows, cfg: PretrainConfig, index: dict, autocast, device, to_device) -> dict:
    model.eval()
    n = min(cfg.eval_batches * cfg.micro_batch, val_data.n)
    losses = []
    for first in range(0, n, cfg.micro_batch):
        batch = to_device(val_data.batch(first, min(cfg.micro_batch, n - first)))
        with autocast():
            logits = model(input_ids=batch[:, :-1]).logits
        losses.append(F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1)))
    loss = torch.stack(losses).mean().item()
    val = index["val"]
    bpb = loss / math.log(2) * val["tokens"] / max(val["bytes"], 1)
    model.train()
    return {"val_loss": loss, "val_bpb": bpb}


@torch.no_grad()
def _write_samples(model, tokenizer_dir: Path, val_data: TokenWindows, cfg: PretrainConfig, device, work_dir: Path,
                   step: int) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    model.eval()
    lines = []
    for k in range(cfg.samples):
        prompt = torch.from_numpy(val_data.batch(k, 1)[:, :8]).to(device)
        out = model.generate(prompt, max_new_tokens=cfg.sample_tokens, do_sample=False,
                             pad_token_id=model.config.pad_token_id)
        lines.append(f"[step {step}] {tok.decode(prompt[0])!r} -> {tok.decode(out[0, 8:])!r}")
    with open(work_dir / SAMPLES, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    model.train()


def _sdpa(backend: str):
    if backend == "auto":
        return nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel({"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                        "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}[backend])


METRICS = "metrics.jsonl"
SAMPLES = "samples.txt"


def _resume_history(work_dir: Path, step: int) -> list[dict]:
    """Rows of earlier attempts up to the checkpoint's step; later rows (lost work) are dropped from
    metrics.jsonl and samples.txt."""
    path = work_dir / METRICS
    rows = []
    if path.exists():
        rows = [r for r in (json.loads(x) for x in path.read_text().splitlines() if x.strip()) if r["step"] <= step]
        _rewrite(path, "".join(json.dumps(r) + "\n" for r in rows))
    samples = work_dir / SAMPLES
    if samples.exists():
        keep = [x for x in samples.read_text().splitlines(keepends=True)
                if not x.startswith("[step ") or int(x[6 : x.index("]")]) <= step]
        _rewrite(samples, "".join(keep))
    return rows


def _rewrite(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _Profiler:
    """torch.profiler over `profile_steps` steps after warm-up (compile included in warm-up)."""

    def __init__(self, cfg: PretrainConfig, work_dir: Path, start_step: int):
        self.begin = start_step + 20
        self.end = self.begin + cfg.profile_steps
        self.work_dir = work_dir
        self.prof = None

    def tick(self, step: int) -> None:
        if step == self.begin:
            from torch.profiler import ProfilerActivity, profile

            acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
            self.prof = profile(activities=acts)
            self.prof.__enter__()
        elif step == self.end and self.prof is not None:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.prof.__exit__(None, None, None)
            key = "self_cuda_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
            table = self.prof.key_averages().table(sort_by=key, row_limit=40, max_name_column_width=90)
            (self.work_dir / "profile.txt").write_text(table)
            self.prof = None


def _wrap_distributed(model, cfg: PretrainConfig, device, dist: Dist):
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[dist.local_rank] if device.type == "cuda" else None)
