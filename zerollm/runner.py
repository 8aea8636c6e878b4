"""Plan and execute stages: the part of orchestration that needs no Prefect.

`plan()` computes every stage key up front (a key depends on configs and input keys, never on
outputs), so the Prefect flow and the plain runner make the same cache decisions.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from zerollm import cache, faults, machine
from zerollm.pipeline_config import PipelineConfig
from zerollm.stage import STAGE_NAMES, StageContext, get_stage
from zerollm.tracking import Tracker

log = logging.getLogger("zerollm")


@dataclass
class StagePlan:
    stage: str
    key: str
    dir: str
    config: dict
    inputs: dict[str, str]  # input stage -> its key
    input_dirs: dict[str, str]
    force: bool = False

    def cached(self, check_hash: bool = True) -> cache.Manifest | None:
        return None if self.force else cache.verify(Path(self.dir), check_hash)


@dataclass
class StageOutcome:
    stage: str
    key: str
    cache_hit: bool
    seconds: float
    metrics: dict
    dir: str
    mlflow_run_id: str | None
    produced_by_run_id: str | None = None


def select_stages(until: str | None) -> tuple[str, ...]:
    if until is None:
        return STAGE_NAMES
    if until not in STAGE_NAMES:
        raise ValueError(f"--until {until!r}: unknown stage; stages: {', '.join(STAGE_NAMES)}")
    return STAGE_NAMES[: STAGE_NAMES.index(until) + 1]


def plan(cfg: PipelineConfig, workdir: Path, until: str | None = None, force: tuple[str, ...] = ()) -> list[StagePlan]:
    workdir = Path(workdir).resolve()
    for f in force:
        if f not in STAGE_NAMES:
            raise ValueError(f"--force {f!r}: unknown stage; stages: {', '.join(STAGE_NAMES)}")
    plans: dict[str, StagePlan] = {}
    for name in select_stages(until):
        stage = get_stage(name)
        stage_cfg = getattr(cfg, name)
        cfg_dict = stage_cfg.model_dump(mode="json")
        input_keys = {i: plans[i].key for i in stage.inputs}
        module = stage.load()
        ctx = StageContext(workdir=workdir, log=logging.getLogger(f"zerollm.{name}"))
        fp = module.fingerprint(stage_cfg, ctx) if hasattr(module, "fingerprint") else None
        key = cache.stage_key(stage, cache.key_fields(stage_cfg), input_keys, fp)
        plans[name] = StagePlan(
            stage=name, key=key, dir=str(cache.stage_dir(workdir, name, key)), config=cfg_dict,
            inputs=input_keys, input_dirs={i: plans[i].dir for i in stage.inputs}, force=name in force,
        )
    return list(plans.values())


def reuse(p: StagePlan, manifest: cache.Manifest, tracker: Tracker, parent_run_id: str | None) -> StageOutcome:
    """A cache hit still gets its own MLflow child run, tagged with the run that produced it."""
    t0 = time.time()
    run_id = tracker.start_run(p.stage, parent_run_id, params=p.config, tags={
        "cache_hit": "true", "stage_key": p.key, "produced_by_run_id": manifest.mlflow_run_id or "",
        "stage_dir": p.dir})
    tracker.log_metrics(run_id, manifest.metrics)
    tracker.end_run(run_id)
    return StageOutcome(p.stage, p.key, True, round(time.time() - t0, 3), manifest.metrics, p.dir, run_id,
                        manifest.mlflow_run_id)


def execute(p: StagePlan, cfg: PipelineConfig, workdir: Path, tracker: Tracker,
            parent_run_id: str | None) -> StageOutcome:
    manifest = p.cached()
    if manifest is not None:
        log.info("%s: cache hit %s", p.stage, p.dir)
        return reuse(p, manifest, tracker, parent_run_id)
    with cache.stage_lock(Path(p.dir), log) as waited:
        manifest = p.cached() if waited else None  # the run we waited for may have made it
        if manifest is not None:
            log.info("%s: made by a concurrent run, reused %s", p.stage, p.dir)
            return reuse(p, manifest, tracker, parent_run_id)
        return _execute_locked(p, cfg, workdir, tracker, parent_run_id)


def _execute_locked(p: StagePlan, cfg: PipelineConfig, workdir: Path, tracker: Tracker,
                    parent_run_id: str | None) -> StageOutcome:

    stage = get_stage(p.stage)
    module = stage.load()
    stage_cfg = getattr(cfg, p.stage)
    final = Path(p.dir)
    tmp = cache.new_tmp_dir(final)
    run_id = tracker.start_run(p.stage, parent_run_id, params=p.config,
                               tags={"cache_hit": "false", "stage_key": p.key, "stage_dir": p.dir})
    stage_log = logging.getLogger(f"zerollm.{p.stage}")
    scratch = Path(f"{p.dir}.work")
    if p.force:
        shutil.rmtree(scratch, ignore_errors=True)
    metrics_buffer = tracker.metric_buffer(run_id)
    ctx = StageContext(workdir=Path(workdir).resolve(), log=stage_log, scratch=scratch, log_metrics=metrics_buffer.add,
                       data=cfg.data)
    started = time.time()
    log.info("%s: running -> %s", p.stage, final)
    try:
        faults.maybe_fail(cfg.faults, p.stage, p.key, workdir)
        with tracker.system_metrics(run_id, enabled=getattr(module, "SYSTEM_METRICS", False)):
            result = module.run(stage_cfg, {k: Path(v) for k, v in p.input_dirs.items()}, tmp, ctx)
            metrics_buffer.flush()
        manifest = cache.Manifest(
            stage=p.stage, key=p.key, config=p.config, inputs=p.inputs, files={}, metrics=result.metrics,
            summary=result.summary, started=started, mlflow_run_id=run_id, code_version=cache.code_version(stage),
        )
        cache.commit(tmp, final, manifest)
    except BaseException as exc:
        tracker.end_run(run_id, end_status(exc))
        shutil.rmtree(tmp, ignore_errors=True)  # scratch checkpoints stay: the rerun resumes from them
        raise
    shutil.rmtree(scratch, ignore_errors=True)  # the stage is done: its checkpoints are not needed to resume
    try:
        tracker.set_tags(run_id, {"output_uri": final.resolve().as_uri()})  # large outputs referenced, not copied
        tracker.log_metrics(run_id, {**result.metrics, "seconds": manifest.seconds})
        tracker.log_artifact(run_id, final / cache.MANIFEST)
        for rel in result.artifacts:
            tracker.log_artifact(run_id, final / rel, str(Path(rel).parent) if "/" in rel else None)
        for name, rows in result.tables.items():
            tracker.log_table(run_id, rows, name)
        metrics = dict(result.metrics)
        if hasattr(module, "publish"):  # registry updates: they depend on the registry, not on the stage key
            extra = module.publish(final, stage_cfg, tracker, run_id, stage_log) or {}
            tracker.log_metrics(run_id, extra)
            metrics.update(extra)
    finally:
        tracker.end_run(run_id)
    return StageOutcome(p.stage, p.key, False, manifest.seconds, metrics, p.dir, run_id, run_id)


def end_status(exc: BaseException) -> str:
    """MLflow's end status for a run stopped by `exc`: KILLED for a signal or Ctrl-C, else FAILED."""
    stopped = isinstance(exc, (KeyboardInterrupt, SystemExit)) or type(exc).__name__ == "TerminationSignal"
    return "KILLED" if stopped else "FAILED"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class RunRecord:
    """`<workdir>/runs/<id>.json`, rewritten after each stage; `zerollm status` reads the latest, and
    `zerollm resume` reruns the latest failed one with its own config."""

    def __init__(self, workdir: Path, config: dict, mlflow_run_id: str | None = None, run_id: str | None = None,
                 until: str | None = None, resumed_from: str | None = None):
        self.workdir = Path(workdir)
        self.id = run_id or new_run_id()
        self.data = {"run_id": self.id, "started": time.time(), "status": "running", "mlflow_run_id": mlflow_run_id,
                     "config": config, "until": until, "resumed_from": resumed_from, "pid": os.getpid(),
                     "host": socket.gethostname(), "machine": machine.describe(), "stages": []}
        self.save()

    def add(self, outcome: StageOutcome) -> None:
        self.data["stages"].append(asdict(outcome))
        self.save()

    def finish(self, status: str, error: BaseException | None = None) -> None:
        self.data["status"] = status
        self.data["finished"] = time.time()
        if machine.accelerator():
            self.data["machine"]["accelerator"] = machine.accelerator()
        if error is not None:
            self.data["error"] = f"{type(error).__name__}: {error}"[:2000]
        self.save()

    def save(self) -> None:
        runs = self.workdir / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.data, indent=2, default=str)
        for name in (f"{self.id}.json", "latest.json"):
            tmp = runs / f".{name}.{os.getpid()}.part"  # per process: two runs may save at once
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(runs / name)


def latest_run(workdir: Path) -> dict | None:
    path = Path(workdir) / "runs" / "latest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def run_records(workdir: Path) -> list[dict]:
    """Every readable run record of a workdir, oldest first (one reader: `zerollm.compare.list_runs`)."""
    from zerollm.compare import list_runs

    return list_runs(workdir)


def latest_failed_run(workdir: Path) -> dict | None:
    recs = run_records(workdir)
    return recs[-1] if recs and recs[-1].get("status") == "failed" else None


def mark_stale_runs(workdir: Path, tracker: Tracker) -> list[str]:
    """Runs whose process died without a word (kill -9, power loss) still say "running", and so do their
    MLflow runs: mark them failed (killed) before a new run starts. Runs of live processes, or of other
    hosts, are left alone."""
    marked = []
    for rec in run_records(workdir):
        if rec.get("status") != "running" or rec.get("host") != socket.gethostname() or not rec.get("pid"):
            continue
        if rec["pid"] == os.getpid() or cache.process_alive(rec["pid"]):
            continue
        rec.update(status="failed", finished=time.time(), error="killed: its process ended without finishing")
        _write_record(Path(workdir), rec)
        try:
            tracker.end_stale_runs(rec.get("mlflow_run_id"))
        except Exception as exc:  # tracking down must not block a new run
            log.warning("could not end the MLflow runs of killed run %s: %s", rec["run_id"], exc)
        marked.append(rec["run_id"])
        log.warning("run %s was killed (process %s gone): marked failed", rec["run_id"], rec["pid"])
    return marked


def _write_record(workdir: Path, rec: dict) -> None:
    runs = workdir / "runs"
    text = json.dumps(rec, indent=2, default=str)
    names = [f"{rec['run_id']}.json"]
    latest = latest_run(workdir)
    if latest and latest.get("run_id") == rec["run_id"]:
        names.append("latest.json")
    for name in names:
        tmp = runs / f".{name}.{os.getpid()}.part"  # per process: two runs may save at once
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(runs / name)


def write_report(workdir: Path, record: RunRecord, tracker: Tracker, parent_run_id: str | None):
    """The run's report (`<workdir>/reports/<run id>/`), logged to the pipeline's MLflow run; None when it
    could not be written (a report never fails a run). Its path goes into the run record."""
    from zerollm import report

    try:
        rep = report.write(workdir, record.data)
    except Exception as exc:
        log.warning("run report not written: %s: %s", type(exc).__name__, exc)
        return None
    record.data["report"] = str(rep.html)
    record.save()
    try:
        tracker.log_artifact(parent_run_id, rep.html.parent, "report")
    except Exception as exc:
        log.warning("run report not logged to MLflow: %s", exc)
    for line in rep.warnings:
        log.warning("%s", line)
    return rep


def run_pipeline(cfg: PipelineConfig, workdir: Path, until: str | None = None, force: tuple[str, ...] = (),
                 on_stage: Callable[[StageOutcome], None] | None = None) -> list[StageOutcome]:
    """The whole pipeline without Prefect (bare GPU boxes, tests): same keys, manifests and tracking."""
    workdir = Path(workdir).resolve()
    plans = plan(cfg, workdir, until, force)
    tracker = Tracker(cfg.tracking, workdir)
    mark_stale_runs(workdir, tracker)
    parent = tracker.start_run(cfg.name, tags={"zerollm.kind": "pipeline", "workdir": str(workdir)})
    record = RunRecord(workdir, cfg.model_dump(mode="json"), parent, until=until)
    outcomes = []
    try:
        for p in plans:
            outcome = execute(p, cfg, workdir, tracker, parent)
            record.add(outcome)
            outcomes.append(outcome)
            if on_stage:
                on_stage(outcome)
    except BaseException as exc:
        record.finish("failed", exc)
        if end_status(exc) == "FAILED":  # stopped by a signal: no time to spare, `zerollm report` writes it later
            write_report(workdir, record, tracker, parent)
        tracker.end_run(parent, end_status(exc))
        raise
    record.finish("completed")
    write_report(workdir, record, tracker, parent)
    tracker.end_run(parent)
    return outcomes
