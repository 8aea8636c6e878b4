"""What the sft and rlhf stages share: TRL trainer settings, resume, metric streaming, the output model.

TRL's trainers are Hugging Face Trainers: they checkpoint model, optimizer, scheduler, RNG and data
position into `output_dir/checkpoint-N/`, which here is the stage's scratch directory, so a killed
stage resumes from its last checkpoint when rerun. Metrics go through the stage context into the
stage's own MLflow run (`report_to` stays off: a second MLflow run per stage would split lineage).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Literal

from pydantic import Field

from zerollm.config import StrictModel
from zerollm.machine import use_bf16
from zerollm.probe import END_OF_TURN, load_model, stop_token_ids  # noqa: F401  (re-exported for the stages)

# files of a model stage's output that are the tokenizer (copied from the tokenizer stage, never
# re-saved: transformers 5 writes a tokenizer class name that 4.x cannot load)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json")


class TrainSettings(StrictModel):
    """Optimisation and checkpoint settings every TRL-based stage takes."""

    lr: float = Field(1e-4, gt=0, description="Peak learning rate (AdamW).")
    schedule: Literal["cosine", "linear", "constant", "constant_with_warmup"] = Field(
        "cosine", description="Learning-rate schedule after warmup.")
    warmup_ratio: float = Field(0.05, ge=0, lt=1, description="Share of steps spent warming the learning rate up.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    micro_batch: int = Field(16, ge=1, description="Rows per device per forward/backward.")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per optimizer step.")
    grad_clip: float = Field(1.0, ge=0, description="Clip the global gradient norm (0: off).")
    dtype: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="Autocast dtype (auto: bf16 on CUDA, fp32 on CPU; bf16 also pays on CPUs with AMX).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when available.")
    checkpoint_every: int = Field(50, ge=1, description="Save a resumable checkpoint every N steps (and at the end).")
    keep_checkpoints: int = Field(2, ge=1, description="Resumable checkpoints kept.")
    log_every: int = Field(5, ge=1, description="Log training metrics every N steps.")
    seed: int = Field(0, description="Seed for data order, sampling and init of new heads.")
    num_threads: int = Field(0, ge=0, description="CPU threads for torch (0: all cores).",
                             json_schema_extra={"cache_key": False})


def use_cuda(s: TrainSettings) -> bool:
    import torch

    if s.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested but torch sees no CUDA device")
    return s.device != "cpu" and torch.cuda.is_available()


def device_of(s: TrainSettings) -> str:
    return "cuda" if use_cuda(s) else "cpu"


def trainer_args(s: TrainSettings, output_dir: Path, **extra) -> dict:
    """Keyword arguments for any TRL *Config: the same meaning of every shared field in every stage."""
    import torch

    cuda = use_cuda(s)
    if not cuda and s.num_threads:
        torch.set_num_threads(s.num_threads)
    bf16 = use_bf16(s.dtype, cuda)
    return dict(
        output_dir=str(output_dir), learning_rate=s.lr, lr_scheduler_type=s.schedule, warmup_steps=s.warmup_ratio,  # transformers 5: a float < 1 is a share of the steps
        weight_decay=s.weight_decay, per_device_train_batch_size=s.micro_batch,
        gradient_accumulation_steps=s.grad_accum, max_grad_norm=s.grad_clip, bf16=bf16, fp16=False,
        use_cpu=not cuda, gradient_checkpointing=False,  # TRL turns it on; small models don't need it
        save_strategy="steps", save_steps=s.checkpoint_every, save_total_limit=s.keep_checkpoints,
        logging_steps=s.log_every, logging_first_step=True, report_to="none", seed=s.seed, data_seed=s.seed,
        disable_tqdm=True, dataloader_num_workers=0, push_to_hub=False,
        include_num_input_tokens_seen="non_padding", **extra,  # for tokens/s and MFU (throughput_callback)
    )


def resume_point(output_dir: Path) -> tuple[str | None, int]:
    """(newest complete checkpoint, its step) in the scratch dir, or (None, 0).

    The Trainer writes a checkpoint in place, trainer_state.json last, so a kill during a save
    leaves a partial one: it is removed, and the one before it is the resume point.
    """
    done = []
    for d in Path(output_dir).glob("checkpoint-*"):
        try:
            state = json.loads((d / "trainer_state.json").read_text())
        except (OSError, ValueError):
            state = None
        weights = list(d.glob("*.safetensors"))
        if state is not None and weights:
            done.append((int(state["global_step"]), d))
        else:
            shutil.rmtree(d, ignore_errors=True)
    if not done:
        return None, 0
    step, ckpt = max(done)
    return str(ckpt), step


def fit(trainer, work: Path, ctx, stream, log_file: Path | None = None) -> dict[str, float]:
    """Train from the last checkpoint in `work`, if any; the numbers every TRL stage reports, and the
    whole log history (one JSON row per logged step, across resumes) in `log_file` for the run report.

    After a resume the Trainer's own totals cover only the steps it ran this time, so the numbers
    come from its log history, which the checkpoint carried over; the steps before the resume are
    streamed again, so the stage's MLflow run shows the whole curve.
    """
    quiet(trainer)
    resume, step = resume_point(work)
    if resume:
        ctx.log.warning("resuming from %s (step %d)", resume, step)
        history = json.loads((Path(resume) / "trainer_state.json").read_text()).get("log_history", [])
        for row in history:
            stream.emit(row, row.get("step"))
    out = trainer.train(resume_from_checkpoint=resume)
    history = trainer.state.log_history
    for row in history:
        stream.keep(row)
    if log_file is not None:
        Path(log_file).write_text("".join(json.dumps(r) + "\n" for r in history), encoding="utf-8")
    losses = [r["loss"] for r in history if "loss" in r]
    return {"train_loss": float(sum(losses) / len(losses)) if losses else float(out.training_loss),
            "steps": float(trainer.state.global_step), "resumed_from_step": float(step),
            "train_seconds": float(out.metrics.get("train_runtime", 0.0))}


def throughput_callback(model, seq_len: int, device):
    """A TrainerCallback that adds `tokens_per_s` (non-padding tokens trained on, per second of the
    interval) and, on a GPU with a known peak, `mfu` (zerollm.mfu) to every log row; `summary()` gives
    the median of the intervals after the first (warm-up). T in the attention term is the stage's
    `max_length`, an upper bound. Put it before `metrics_callback` so the numbers are streamed too."""
    import time

    from transformers import TrainerCallback

    from zerollm import mfu

    fpt, peak = mfu.model_flops_per_token(model, seq_len), mfu.peak_flops(device)

    class Throughput(TrainerCallback):
        def __init__(self):
            self.rates: list[float] = []
            self.t = self.n = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.t, self.n = time.perf_counter(), state.num_input_tokens_seen

        def on_log(self, args, state, control, logs=None, **kwargs):
            now, n = time.perf_counter(), state.num_input_tokens_seen
            if logs is not None and self.t is not None and n > self.n and now > self.t:
                rate = (n - self.n) / (now - self.t)
                self.rates.append(rate)
                logs["tokens_per_s"] = rate
                if peak:
                    logs["mfu"] = mfu.mfu(fpt, rate, peak)
            self.t, self.n = now, n

        def summary(self) -> dict[str, float]:
            rates = sorted(self.rates[1:] or self.rates)
            if not rates:
                return {}
            rate = rates[len(rates) // 2]
            out = {"tokens_per_s": rate, "flops_per_token": float(fpt)}
            if peak:
                out["mfu"] = mfu.mfu(fpt, rate, peak)
            return out

    return Throughput()


def metrics_callback(ctx, prefix: str = ""):
    """A TrainerCallback that streams every logged number to the stage's MLflow run and keeps the
    latest value of each (`last`)."""
    from transformers import TrainerCallback

    class StreamMetrics(TrainerCallback):
        def __init__(self):
            self.last: dict[str, float] = {}

        def keep(self, logs: dict) -> dict[str, float]:
            m = {f"{prefix}{k}": float(v) for k, v in logs.items()
                 if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool) and v == v}
            self.last.update({k[len(prefix):]: v for k, v in m.items()})
            return m

        def emit(self, logs: dict, step: int | None) -> dict[str, float]:
            m = self.keep(logs)
            if m:
                ctx.log_metrics(m, step)
            return m

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            m = self.emit(logs, state.global_step)
            shown = ", ".join(f"{k}={v:.4g}" for k, v in m.items() if not k.endswith(("epoch", "num_tokens")))
            ctx.log.info("step %d/%d: %s", state.global_step, state.max_steps, shown)

    return StreamMetrics()


def save_model(model, tok, tokenizer_src: Path, dest: Path) -> Path:
    """One plain HF checkpoint: safetensors weights, config, a generation config that stops at the
    end of an assistant turn, and the tokenizer files (with the chat template) of the input model."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    gc = getattr(model, "generation_config", None)  # a reward model (sequence classifier) has none
    if gc is not None:
        gc.eos_token_id = stop_token_ids(tok)
        gc.pad_token_id = tok.pad_token_id
        gc.bos_token_id = tok.bos_token_id
    model.config.pad_token_id = tok.pad_token_id
    model.config.use_cache = True
    model.save_pretrained(tmp, safe_serialization=True)
    for name in TOKENIZER_FILES:
        if (Path(tokenizer_src) / name).is_file():
            shutil.copy2(Path(tokenizer_src) / name, tmp / name)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    return dest


def quiet_hub() -> None:
    """Trainers send telemetry and may look up the Hub; local models need neither. Progress bars
    would flood the stage log (the stage logs its own progress)."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def quiet(trainer):
    """Drop the Trainer's stdout printer: metrics go to the stage log and MLflow instead."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for cb in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cb)
    return trainer
