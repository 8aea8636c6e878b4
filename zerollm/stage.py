"""The stage contract: a name, a config, the stages it reads, and `run(cfg, inputs, out_dir, ctx)`.

Stage modules are imported lazily so that `zerollm status` or a fully cached run never pays for
torch, datatrove or transformers imports.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class StageResult:
    """What a stage returns: its numbers and the small files worth showing in MLflow."""

    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)  # paths relative to out_dir, logged to MLflow
    summary: dict[str, Any] = field(default_factory=dict)  # JSON-able extras kept in the manifest
    tables: dict[str, list[dict]] = field(default_factory=dict)  # artifact file -> rows, logged as MLflow tables


@dataclass
class StageContext:
    """Everything a stage may need besides its config and inputs."""

    workdir: Path
    log: logging.Logger
    # a directory that survives a crash of this stage (same key), for checkpoints; removed once the
    # stage has committed
    scratch: Path | None = None
    # log_metrics(dict, step) streams step-wise numbers (training curves) to the stage's MLflow run
    log_metrics: Callable[[dict[str, float], int | None], None] = lambda metrics, step=None: None
    # where datatrove runs (zerollm.executors.DataConfig); None: local processes
    data: Any = None


@dataclass(frozen=True)
class Stage:
    name: str
    # module holding `Config`, `run(cfg, inputs, out_dir, ctx)`, optionally `fingerprint(cfg, ctx)` and
    # `publish(out_dir, cfg, tracker, run_id, log) -> metrics` (after commit: registry updates)
    module: str
    inputs: tuple[str, ...]
    reads: str
    writes: str
    code_paths: tuple[str, ...] = ()  # package-relative paths hashed into the code version

    def load(self):
        return importlib.import_module(self.module)


STAGES: tuple[Stage, ...] = (
    Stage("collect", "zerollm.collect.stage", (),
          "sources in config (synthetic world, local files, HF datasets, URLs)",
          "datasets/pretrain/*.jsonl.gz + sft/preference/eval/prompts JSONL (one chat form), rejects.jsonl",
          ("collect", "io")),
    Stage("filter", "zerollm.filter.stage", ("collect",),
          "collect: datasets/pretrain shards",
          "shards/*.jsonl.gz kept docs, drop counts per reason, dropped examples",
          ("filter", "io")),
    Stage("dedup", "zerollm.dedup.stage", ("collect", "filter"),
          "filter: shards; collect: eval set for decontamination",
          "shards/*.jsonl.gz one survivor per cluster, removed ids, cluster sizes",
          ("dedup", "io")),
    Stage("tokenizer", "zerollm.tokenizer.stage", ("dedup",),
          "dedup: shards",
          "hf/ tokenizer directory (tokenizer.model + tokenizer.json, ChatML template), train.bin/val.bin + index.json",
          ("tokenizer", "io")),
    Stage("pretrain", "zerollm.pretrain.stage", ("tokenizer", "collect"),
          "tokenizer: train.bin/val.bin token shards, index.json, hf/; collect: eval set for the probe",
          "model/ (HF checkpoint: safetensors + config + tokenizer), metrics.jsonl, loss_curve.png, samples.txt, "
          "probe.jsonl",
          ("pretrain", "probe.py")),
    Stage("sft", "zerollm.sft.stage", ("pretrain", "collect"),
          "pretrain: model/; collect: sft set, eval set for the probe",
          "model/ (chat model: safetensors + tokenizer with ChatML template), probe.jsonl",
          ("sft", "probe.py", "finetune.py")),
    Stage("rlhf", "zerollm.rlhf.stage", ("sft", "collect"),
          "sft: model/; collect: preference set, RL prompts (training facts), eval set for the probe",
          "model/ (chat model), probe.jsonl (answers after pretrain, sft, rlhf), reward_model/ (rm+rloo)",
          ("rlhf", "probe.py", "finetune.py")),
    Stage("quantize", "zerollm.quantize.stage", ("tokenizer", "collect", "pretrain", "sft", "rlhf"),
          "quantize.model's stage (default rlhf): model/; tokenizer: validation docs; collect: eval questions",
          "gguf/model-{F16,Q8_0,Q4_K_M,...}.gguf + Modelfile, quant_table (size, bits/weight, ppl, top-1, tok/s)",
          ("quantize", "llamacpp.py", "heldout.py", "probe.py")),
    Stage("evaluate", "zerollm.evaluate.stage", ("collect", "dedup", "tokenizer", "pretrain", "sft", "rlhf", "quantize"),
          "every model stage's model/, quantize: GGUF files; collect: eval set; tokenizer: validation docs; "
          "dedup: removed contaminated docs",
          "eval_table (model × task, stderr, contamination), eval_chart.png, gate.json, release/ (model card, "
          "GGUF, Modelfile) registered in MLflow",
          ("evaluate", "llamacpp.py", "heldout.py", "probe.py", "dedup/decontam.py", "dedup/text.py")),
)

STAGE_NAMES = tuple(s.name for s in STAGES)


def get_stage(name: str) -> Stage:
    for s in STAGES:
        if s.name == name:
            return s
    raise KeyError(f"unknown stage {name!r}; stages: {', '.join(STAGE_NAMES)}")


def package_root() -> Path:
    return Path(__file__).resolve().parent
