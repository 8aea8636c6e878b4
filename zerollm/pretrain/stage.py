"""pretrain stage: train in-process (one device) or under torchrun (devices > 1), resuming from the
stage's scratch checkpoints after a crash, then publish the final HF checkpoint as the output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from zerollm import cache
from zerollm.lineage import NoParent, parent_for
from zerollm.pretrain.config import PretrainConfig
from zerollm.stage import Stage, StageContext, StageResult

Config = PretrainConfig
SHAPE_FIELDS = ("preset", "shape", "tie_embeddings")  # a continued model must have its parent's


def fingerprint(cfg: PretrainConfig, ctx: StageContext) -> dict | None:
    """A continued model's key holds its parent's."""
    try:
        parent = parent_for(cfg.init, ctx.workdir, cfg.parent, ctx.upstream.get("dedup"))
    except NoParent:  # check() says why, before anything runs
        return {"parent": None}
    return {"parent": parent.key} if parent else None


def check(cfg: PretrainConfig, pipeline, ctx: StageContext) -> list[str]:
    """A parent to continue from, of the same shape; a device the config names (torch is imported only when
    one is named)."""
    try:
        parent = parent_for(cfg.init, ctx.workdir, cfg.parent, ctx.upstream.get("dedup"))
    except NoParent as exc:
        return [str(exc)]
    if parent is not None:
        old = cache.Manifest.read(parent.pretrain / cache.MANIFEST).config
        for k in SHAPE_FIELDS:
            new = cfg.model_dump(mode="json")[k]
            if old.get(k) != new:
                return [f"pretrain.{k}: {old.get(k)!r} → {new!r} under pretrain.init: {cfg.init}; a continued model "
                        f"keeps its parent's shape; allowed: {old.get(k)!r} (or pretrain.init: scratch)"]
    if cfg.device != "cuda" and cfg.devices == 1 and cfg.kernels != "liger":
        return []
    import torch

    have = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if cfg.kernels == "liger":
        from zerollm.pretrain.kernels import choose

        try:
            choose("liger", torch.device("cuda" if have and cfg.device != "cpu" else "cpu"))
        except ValueError as exc:
            return [str(exc)]
    if cfg.device == "cuda" and have == 0:
        return ["pretrain.device: cuda, but no CUDA device is visible; allowed: auto, cpu"]
    if cfg.devices > 1 and have and cfg.devices > have:
        return [f"pretrain.devices: {cfg.devices}, but {have} CUDA devices are visible; allowed: 1 to {have}"]
    return []


def run(cfg: PretrainConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    from zerollm.pretrain import checkpoint
    from zerollm.pretrain.data import read_index, unigram_entropy_nats

    data_dir = inputs["tokenizer"]
    work = ctx.scratch or out_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    parent = parent_for(cfg.init, ctx.workdir, cfg.parent, ctx.upstream.get("dedup"))
    lineage: dict = {"init": "scratch"}
    if parent is not None:
        cfg, lineage = _continuation(cfg, parent, Path(data_dir), work, ctx)
        if cfg is None:  # nothing new: the parent is the model
            shutil.copytree(Path(lineage["parent_dir"]) / "model", out_dir / "model")
            return _finish(lineage["config"], inputs, out_dir, work, {"steps": 0}, ctx, lineage)
    resume = checkpoint.latest(work)
    if resume is not None:
        ctx.log.warning("pretrain: resuming from %s", resume)

    metrics_file = work / "metrics.jsonl"  # written by the trainer (rank 0), the whole curve across resumes

    def on_metrics(m: dict, step: int) -> None:
        ctx.log_metrics(m, step)
        ctx.log.info("pretrain step %d/%d: %s", step, cfg.max_steps, ", ".join(f"{k}={v:.4g}" for k, v in m.items()))

    if cfg.devices > 1:
        summary = _torchrun(cfg, data_dir, work, ctx)
        for row in _read_jsonl(metrics_file):
            step = row.pop("step")
            ctx.log_metrics(row, step)
    else:
        from zerollm.pretrain.train import train

        summary = train(cfg, data_dir, work, on_metrics)

    final = checkpoint.latest(work)
    if final is None or json.loads((final / "trainer_state.json").read_text())["step"] != cfg.max_steps:
        raise RuntimeError(f"pretrain ended without a final checkpoint in {work}")
    checkpoint.export_model(final, out_dir / "model")
    return _finish(cfg, inputs, out_dir, work, summary, ctx, lineage)


def _continuation(cfg: PretrainConfig, parent, data_dir: Path, work: Path, ctx: StageContext):
    """The config a continued run trains with (its steps and re-warm) and its lineage; (None, lineage) when the
    corpus holds no tokens the parent has not seen."""
    from zerollm.pretrain.data import read_index, write_continuation

    index = read_index(data_dir)
    seen = parent.seen_shards()
    new = [u["train"]["tokens"] for u in index["units"] if u["shard"] not in seen]
    old = [u["train"]["tokens"] for u in index["units"] if u["shard"] in seen]
    n_new, n_old = sum(b - a for a, b in new), sum(b - a for a, b in old)
    lineage = {"init": "continue", "parent_dir": str(parent.pretrain), "parent_key": parent.key,
               "new_tokens": n_new, "old_tokens": n_old, "replay": cfg.replay, "config": cfg}
    if n_new <= cfg.seq_len:
        ctx.log.warning("pretrain: no tokens the parent has not seen (%d new): the parent model is kept", n_new)
        return None, lineage
    steps = cfg.continue_steps or max(cfg.rewarm_steps + 1,
                                      round(cfg.max_steps * n_new / max(n_old, 1) / (1 - cfg.replay)))
    write_continuation(work, parent.pretrain / "model", new, old, cfg.replay)
    ctx.log.info("pretrain: continuing %s on %d new tokens (%d old, replay %.0f%%) for %d steps", parent.pretrain,
                 n_new, n_old, 100 * cfg.replay, steps)
    lineage["steps"] = steps
    return cfg.model_copy(update={"max_steps": steps, "warmup_steps": cfg.rewarm_steps,
                                  "lr": cfg.lr * cfg.continue_lr_ratio}), lineage


def _finish(cfg: PretrainConfig, inputs: dict[str, Path], out_dir: Path, work: Path, summary: dict,
            ctx: StageContext, lineage: dict) -> StageResult:
    from zerollm.pretrain.data import read_index, unigram_entropy_nats

    data_dir = inputs["tokenizer"]
    model_dir = out_dir / "model"
    for name in ("metrics.jsonl", "samples.txt"):
        if (work / name).exists():
            shutil.copy2(work / name, out_dir / name)
    index = read_index(data_dir)
    summary["unigram_entropy"] = unigram_entropy_nats(Path(data_dir) / index["files"]["train"]["tokens"],
                                                      index["dtype"], index["vocab_size"])
    _plot(out_dir / "metrics.jsonl", out_dir / "loss_curve.png", summary["unigram_entropy"])
    metrics = {k: float(v) for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if "collect" in inputs:
        from zerollm.probe import probe_checkpoint

        metrics.update(probe_checkpoint(model_dir, inputs["collect"], cfg.probe, "pretrain", out_dir, ctx.log,
                                        cuda=cfg.device != "cpu" and _cuda()))
    ctx.log.info("pretrain: %s", ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    artifacts = [a for a in ("loss_curve.png", "samples.txt", "metrics.jsonl", "probe.jsonl", "model/config.json")
                 if (out_dir / a).exists()]
    lineage = {k: v for k, v in lineage.items() if k != "config"}
    if lineage.get("parent_dir"):
        lineage["parent_dir"] = os.path.relpath(lineage["parent_dir"], ctx.workdir)
        metrics.update(continue_new_tokens=float(lineage["new_tokens"]),
                       continue_old_tokens=float(lineage["old_tokens"]))
    return StageResult(metrics=metrics, artifacts=artifacts,
                       summary={"model": "model", "device": summary.get("device"), "lineage": lineage})


def _torchrun(cfg: PretrainConfig, data_dir: Path, work: Path, ctx: StageContext) -> dict:
    from zerollm.pretrain import __main__ as entry  # what each process runs: imported, so it is in the code version

    summary_file = work / "summary.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={cfg.devices}",
           "-m", entry.__spec__.parent, "--data", str(data_dir), "--work", str(work),
           "--config-json", cfg.model_dump_json(), "--summary", str(summary_file)]
    env = {**os.environ, "NCCL_NVLS_ENABLE": os.environ.get("NCCL_NVLS_ENABLE", "0")}
    if cfg.device == "cpu" or not _cuda():
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // cfg.devices)))
    ctx.log.info("pretrain: %s", " ".join(cmd[:6]))
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        proc.wait()
    except BaseException:  # interrupted: take the workers down with the launcher, not just the agent
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"torchrun exited with {proc.returncode}; rerun to resume from the last checkpoint")
    return json.loads(summary_file.read_text())


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=20)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _plot(history_file: Path, png: Path, unigram: float) -> None:
    if not history_file.exists():
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = _read_jsonl(history_file)
    tr = [(h["step"], h["train_loss"]) for h in hist if "train_loss" in h]
    va = [(h["step"], h["val_loss"]) for h in hist if "val_loss" in h]
    fig, ax = plt.subplots(figsize=(7, 4))
    if tr:
        ax.plot(*zip(*tr), label="train loss")
    if va:
        ax.plot(*zip(*va), "o-", label="val loss")
    ax.axhline(unigram, color="gray", ls="--", label=f"unigram entropy {unigram:.2f}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


STAGE = Stage(
    name="pretrain", config=PretrainConfig, run=run, check=check, fingerprint=fingerprint,
    inputs=("tokenizer", "collect"),
    produces_model=True, system_metrics=True,
    reads="tokenizer: train.bin/val.bin token shards, index.json, hf/; collect: eval set for the probe",
    writes="model/ (HF checkpoint: safetensors + config + tokenizer), metrics.jsonl, loss_curve.png, samples.txt, "
           "probe.jsonl",
    view="zerollm.pretrain.view",
)
