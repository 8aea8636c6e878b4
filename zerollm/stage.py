"""The stage contract: one self-describing object per stage, declared in its own package.

A stage module (`zerollm/<stage>/stage.py`) ends with `STAGE = Stage(...)`. The registry
(`zerollm.registry`) is the ordered list of these objects; the pipeline config tree, the model-stage
lists, the report, drop accounting, `zerollm stages` and the benchmarks derive from it.

This module imports nothing heavy and nothing of the registry: every stage reaches it, so it is part
of every stage's code version.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# In `Stage.inputs`: every model-producing stage before this one (quantize and evaluate read them all).
MODEL_STAGES = "@models"


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
    # the model-producing stages of the registry, in order (quantize's `auto`, evaluate's default)
    model_stages: tuple[str, ...] = ()
    # the stages this run selected (--until): a check may refuse a reference to one left out
    selected: tuple[str, ...] = ()
    # where the files named in `Stage.kept_on_failure` go when this attempt fails (for error messages)
    failed_dir: Path | None = None
    # the stage's code version: part of the key of every per-file result it keeps (zerollm.units)
    code_version: str = ""
    # the whole pipeline config, for a stage that follows another's setting (the tokenizer of a continued
    # lineage follows pretrain.init); whatever a stage reads from it must also be in its fingerprint
    pipeline: Any = None
    # the keys of the stages planned before this one, by name (a continued lineage picks its parent by the data)
    upstream: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """A stage: what it reads, its config, how it runs, and how the run report shows it.

    Only the modules reached from `run`, `fingerprint`, `publish` and `check` make its code version;
    `view` is named as a string so that presentation (report sections, drop accounting, curves) can
    change without rerunning the stage.
    """

    name: str
    config: type  # a zerollm.config.StrictModel; its docstring describes the section of the pipeline config
    run: Callable[[Any, dict[str, Path], Path, StageContext], StageResult]
    inputs: tuple[str, ...] = ()  # stage names, or MODEL_STAGES
    reads: str = ""  # for `zerollm stages`
    writes: str = ""
    # extra key material that the config alone does not capture (e.g. content hashes of local files)
    fingerprint: Callable[[Any, StageContext], Any] | None = None
    # registry work after commit: publish(out_dir, cfg, tracker, run_id, log) -> metrics
    publish: Callable[..., dict | None] | None = None
    # problems found before anything runs: check(cfg, pipeline_cfg, ctx) -> ["KEY: what is wrong; allowed: …"]
    check: Callable[[Any, Any, StageContext], list[str]] | None = None
    produces_model: bool = False  # a candidate for quantize and evaluate
    system_metrics: bool = False  # CPU/GPU/memory curves in MLflow while it runs (training stages)
    table: str | None = None  # a JSON list of flat rows in its directory, shown as a Prefect table artifact
    # files of a failed attempt worth inspecting (rejected inputs): moved to `<key>.failed/` before the
    # attempt's temporary directory is removed, and that folder removed once the stage succeeds
    kept_on_failure: tuple[str, ...] = ()
    # module with the stage's presentation: `section(view)` (its part of the run report), `losses(metrics,
    # stage_dir, config)` (drop accounting of a data stage) and `CURVES` (training curves)
    view: str | None = None

    def code_modules(self) -> list[str]:
        """The modules whose import closure is this stage's code."""
        fns = (self.run, self.fingerprint, self.publish, self.check)
        return sorted({f.__module__ for f in fns if f is not None})

    def presentation(self):
        """The stage's view module, or None."""
        return importlib.import_module(self.view) if self.view else None


def package_root() -> Path:
    return Path(__file__).resolve().parent
