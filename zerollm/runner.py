"""The one run loop: plan every stage (key, reuse or run, and why), check, then run or reuse in order.

The cache decision is made here and nowhere else. Prefect is one way to execute a planned stage
(`tasks.stage_task.PrefectExecutor` wraps each in a task); the default runs it inline, so
`python -m zerollm run` on a bare GPU box and the Prefect flow give the same keys and outputs.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from zerollm import cache, codeversion, diskfull, faults
from zerollm.config import ConfigError
from zerollm.diskfull import DiskFull
from zerollm.io.hashing import short_hash
from zerollm.pipeline_config import PipelineBase
from zerollm.records import RunRecord, mark_stale_runs, new_run_id
from zerollm.stage import StageContext, package_root
from zerollm.stagelock import stage_lock
from zerollm.tracking import Tracker, flatten

log = logging.getLogger("zerollm")

REUSE, RUN = "reuse", "run"
MAX_CODE_FILES_SHOWN = 5


@dataclass
class StagePlan:
    stage: str
    key: str
    dir: str  # relative to the workdir
    config: dict  # the stage's config section
    inputs: dict[str, str]  # input stage -> its key
    input_dirs: dict[str, str]  # relative to the workdir
    code_version: str
    code: dict[str, str]  # project file -> digest: the files whose edit changes the key
    fingerprint: str
    action: str = RUN  # reuse | run
    reasons: list[str] = field(default_factory=list)  # why it runs (empty for reuse)
    force: bool = False

    def to_json(self) -> dict:
        return {"stage": self.stage, "key": self.key, "action": self.action, "reasons": self.reasons,
                "dir": self.dir, "inputs": self.inputs, "code_version": self.code_version,
                "code_files": sorted(self.code)}


@dataclass
class StageOutcome:
    stage: str
    key: str
    cache_hit: bool
    seconds: float  # in this run (a cache hit: the time to check and reuse)
    metrics: dict
    dir: str  # relative to the workdir
    mlflow_run_id: str | None
    produced_by_run_id: str | None = None  # the MLflow run that built the output
    built_by_run: str | None = None  # the zerollm run that built the output
    built_seconds: float | None = None  # how long building it took then
    reasons: list[str] = field(default_factory=list)
    mlflow_url: str | None = None


class Executor(Protocol):
    """How a planned stage is executed: inline, or as a Prefect task."""

    def info(self) -> dict: ...  # extra run-record fields (e.g. the Prefect flow run)

    def stage(self, plan: StagePlan, call: Callable[[], StageOutcome]) -> StageOutcome: ...

    def report(self, report, pipeline_url: str | None) -> None: ...

    def gate(self, result: dict) -> None: ...  # what the model gate decided (zerollm.evaluate.registry)


class InlineExecutor:
    def info(self) -> dict:
        return {}

    def stage(self, plan: StagePlan, call: Callable[[], StageOutcome]) -> StageOutcome:
        return call()

    def report(self, report, pipeline_url: str | None) -> None:
        pass

    def gate(self, result: dict) -> None:
        pass


# --- planning ---------------------------------------------------------------------------------------


def plan(cfg: PipelineBase, workdir: Path, until: str | None = None, force: tuple[str, ...] = (),
         root: Path | None = None) -> list[StagePlan]:
    """Every selected stage's key, and whether a run would reuse or run it, and why. Runs nothing.
    Raises ConfigError (one line per problem) when a stage would not have what it needs."""
    workdir = Path(workdir).resolve()
    registry = type(cfg).registry
    try:
        selected = registry.select(until)
    except ValueError as exc:
        raise ConfigError(f"config error: {exc}") from None
    for f in force:
        if f not in registry.names:
            raise ConfigError(f"config error: --force {f!r}: unknown stage; allowed: {', '.join(registry.names)}")
    root = root or package_root().parent
    problems: list[str] = []
    plans: dict[str, StagePlan] = {}
    for name in selected:
        stage = registry.get(name)
        stage_cfg = cfg.stage_config(name)
        ctx = _context(cfg, workdir, name, selected=selected, upstream={n: q.key for n, q in plans.items()})
        if stage.check is not None:
            problems += [f"config error: {p}" for p in stage.check(stage_cfg, cfg, ctx)]
        inputs = registry.inputs(name)
        input_keys = {i: plans[i].key for i in inputs}
        version, files = codeversion.code_version(root, stage.code_modules())
        fp = stage.fingerprint(stage_cfg, ctx) if stage.fingerprint else None
        key_cfg = cache.key_fields(stage_cfg)
        key = cache.stage_key(name, key_cfg, input_keys, version, fp)
        p = StagePlan(stage=name, key=key, dir=_rel(cache.stage_dir(workdir, name, key), workdir),
                      config=stage_cfg.model_dump(mode="json"), inputs=input_keys,
                      input_dirs={i: plans[i].dir for i in inputs}, code_version=version, code=files,
                      fingerprint=short_hash(fp) if fp is not None else "", force=name in force)
        _decide(p, workdir, plans, key_cfg)
        plans[name] = p
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))
    return list(plans.values())


def preflight(cfg: PipelineBase, workdir: Path, tracker: Tracker | None = None) -> None:
    """What a run needs beyond its config, checked in seconds before any stage: the tracking server."""
    problem = (tracker or Tracker(cfg.tracking, Path(workdir).resolve())).unreachable()
    if problem:
        raise ConfigError(f"config error: {problem}")


def _context(cfg: PipelineBase, workdir: Path, name: str, **kw) -> StageContext:
    kw.setdefault("selected", type(cfg).registry.names)
    return StageContext(workdir=workdir, log=logging.getLogger(f"zerollm.{name}"), data=cfg.data,
                        model_stages=type(cfg).registry.model_stages, pipeline=cfg, **kw)


def _rel(path: Path, workdir: Path) -> str:
    return Path(path).relative_to(workdir).as_posix()


def _decide(p: StagePlan, workdir: Path, earlier: dict[str, StagePlan], key_cfg: dict) -> None:
    """Reuse when the output of this very key verifies; otherwise say why it runs."""
    out = workdir / p.dir
    if p.force:
        p.action, p.reasons = RUN, ["forced (--force)"]
        return
    manifest, problem = cache.check(out)
    if manifest is not None:
        p.action = REUSE
        return
    p.action = RUN
    if problem is not None and problem != cache.NOT_BUILT:
        p.reasons = [f"output {problem}"]
        return
    prev = cache.latest_manifest(workdir, p.stage, exclude_key=p.key)
    p.reasons = why_changed(p, prev, earlier, key_cfg) if prev else ["never built in this workdir"]


def why_changed(p: StagePlan, prev: cache.Manifest, earlier: dict[str, StagePlan], key_cfg: dict) -> list[str]:
    """What differs from the stage's newest earlier output: config fields, code files, inputs."""
    reasons = []
    old, new = flatten(prev.config), flatten(key_cfg)
    for k in sorted(set(old) | set(new)):
        if k in new and old.get(k, "∅") != new[k]:
            reasons.append(f"{p.stage}.{k}: {_show(old.get(k, '∅'))} → {_show(new[k])}")
    if prev.code:
        changed = sorted(f for f in set(prev.code) | set(p.code) if prev.code.get(f) != p.code.get(f))
        shown = ", ".join(changed[:MAX_CODE_FILES_SHOWN]) + (f" (+{len(changed) - MAX_CODE_FILES_SHOWN} more)"
                                                            if len(changed) > MAX_CODE_FILES_SHOWN else "")
        if changed:
            reasons.append(f"code changed: {shown}")
    elif prev.code_version != p.code_version:
        reasons.append("code: the earlier output was made by an older zerollm")
    for name, key in sorted(p.inputs.items()):
        if prev.inputs.get(name) != key:
            how = "runs" if name in earlier and earlier[name].action == RUN else "changed"
            reasons.append(f"input {name} {how}: {str(prev.inputs.get(name))[:8]} → {key[:8]}")
    if prev.fingerprint and prev.fingerprint != p.fingerprint:
        reasons.append("input data changed (fingerprint: local file contents or tool version)")
    return reasons or ["key scheme changed (output made by an older zerollm)"]


def _show(v) -> str:
    """A config value as the user wrote it: strings quoted, ∅ for a field the older output lacked."""
    return v if v == "∅" else repr(v) if isinstance(v, str) else str(v)


# --- running ----------------------------------------------------------------------------------------


class Runner:
    """Runs a plan: one MLflow parent run, one run record, a child run per stage, the report."""

    def __init__(self, cfg: PipelineBase, workdir: Path, executor: Executor | None = None,
                 on_event: Callable[[str, object], None] | None = None):
        self.cfg = cfg
        self.workdir = Path(workdir).resolve()
        self.executor = executor or InlineExecutor()
        self.on_event = on_event or (lambda event, payload: None)
        self.tracker = Tracker(cfg.tracking, self.workdir)
        self._planned_keys: dict[str, str] = {}

    def run(self, until: str | None = None, force: tuple[str, ...] = (), run_id: str | None = None,
            resumed_from: str | None = None, plans: list[StagePlan] | None = None) -> list[StageOutcome]:
        """`plans`: made by the caller moments ago for this config (the CLI checks before Prefect starts)."""
        plans = plans if plans is not None else plan(self.cfg, self.workdir, until, force)
        self._planned_keys = {p.stage: p.key for p in plans}
        preflight(self.cfg, self.workdir, self.tracker)
        self.on_event("planned", plans)
        mark_stale_runs(self.workdir, self.tracker)
        extra = self.executor.info()
        # the record first: whatever fails after this point leaves a failed run that `zerollm resume` finds
        record = RunRecord(self.workdir, self.cfg.model_dump(mode="json"), None, run_id=run_id or new_run_id(),
                           until=until, resumed_from=resumed_from, extra=extra.get("record"))
        outcomes = []
        parent = None
        try:
            parent = self.tracker.start_run(self.cfg.name, tags={
                "zerollm.kind": "pipeline", "zerollm.run_id": record.id, "resumed_from": resumed_from or "",
                **{k: v for k, v in extra.get("tags", {}).items()}})
            self.tracker.log_params(parent, {"until": until or "", "force": ",".join(force)})
            if parent:
                record.data["mlflow_run_id"] = parent
                record.save()
            for p in plans:
                self.on_event("start", p)
                outcome = self.executor.stage(p, lambda p=p: self.execute(p, parent, record.id))
                record.add(outcome)
                outcomes.append(outcome)
                self.on_event("done", outcome)
        except BaseException as exc:
            record.finish("failed", exc)
            if end_status(exc) == "FAILED":  # stopped by a signal: no time to spare, `zerollm report` writes it
                self._report(record, parent)
            self.tracker.end_run(parent, end_status(exc))
            raise
        record.finish("completed")
        self._gate(record)
        self._report(record, parent)
        self.tracker.end_run(parent)
        return outcomes

    def execute(self, p: StagePlan, parent: str | None, run_id: str) -> StageOutcome:
        """Reuse or run one planned stage; a concurrent run may have built it meanwhile."""
        final = self.workdir / p.dir
        if p.action == REUSE:
            manifest = cache.verify(final, check_hash=False)  # the plan hashed it moments ago
            if manifest is not None:
                log.info("%s: cache hit %s", p.stage, p.dir)
                return self._reuse(p, manifest, parent)
        with stage_lock(final, log):
            # another run may have built it since this one planned (while we waited for its lock, or before)
            manifest = None if p.force else cache.verify(final)
            if manifest is not None:
                log.info("%s: made by a concurrent run, reused %s", p.stage, p.dir)
                return self._reuse(p, manifest, parent)
            return self._build(p, parent, run_id)

    def _keys_before(self, stage: str) -> dict[str, str]:
        """The planned keys of the stages before `stage` (what its fingerprint saw when it was planned)."""
        names = list(self._planned_keys)
        return {n: self._planned_keys[n] for n in names[: names.index(stage)]} if stage in names else {}

    def _reuse(self, p: StagePlan, manifest: cache.Manifest, parent: str | None) -> StageOutcome:
        """A cache hit still gets its own MLflow child run, tagged with the run that built it."""
        t0 = time.time()
        mlflow_run = self.tracker.start_run(p.stage, parent, params=p.config, tags={
            "cache_hit": "true", "stage_key": p.key, "produced_by_run_id": manifest.mlflow_run_id or "",
            "built_by_run": manifest.run_id or "", "stage_dir": p.dir})
        self.tracker.log_metrics(mlflow_run, manifest.metrics)
        self.tracker.end_run(mlflow_run)
        return StageOutcome(p.stage, p.key, True, round(time.time() - t0, 3), manifest.metrics, p.dir, mlflow_run,
                            manifest.mlflow_run_id, manifest.run_id, manifest.seconds,
                            mlflow_url=self.tracker.run_url(mlflow_run))

    def _build(self, p: StagePlan, parent: str | None, run_id: str) -> StageOutcome:
        registry = type(self.cfg).registry
        stage = registry.get(p.stage)
        stage_cfg = self.cfg.stage_config(p.stage)
        final = self.workdir / p.dir
        tmp = cache.new_tmp_dir(final)
        scratch = final.with_name(f"{final.name}.work")
        failed = final.with_name(f"{final.name}.failed")
        if p.force:
            shutil.rmtree(scratch, ignore_errors=True)
        log.info("%s: running -> %s (%s)", p.stage, p.dir, "; ".join(p.reasons))
        mlflow_run = self.tracker.start_run(p.stage, parent, params=p.config, tags={
            "cache_hit": "false", "stage_key": p.key, "stage_dir": p.dir, "reasons": "; ".join(p.reasons)[:4000]})
        metrics_buffer = self.tracker.metric_buffer(mlflow_run)
        ctx = _context(self.cfg, self.workdir, p.stage, scratch=scratch, log_metrics=metrics_buffer.add,
                       failed_dir=failed, code_version=p.code_version, upstream=self._keys_before(p.stage))
        started = time.time()
        try:
            faults.maybe_fail(self.cfg.faults, p.stage, p.key, self.workdir)
            with self.tracker.system_metrics(mlflow_run, enabled=stage.system_metrics):
                result = stage.run(stage_cfg, {k: self.workdir / v for k, v in p.input_dirs.items()}, tmp, ctx)
                metrics_buffer.flush()
            manifest = cache.Manifest(
                stage=p.stage, key=p.key, config=p.config, inputs=p.inputs, files={}, metrics=result.metrics,
                summary=result.summary, started=started, mlflow_run_id=mlflow_run, code_version=p.code_version,
                code=p.code, fingerprint=p.fingerprint, run_id=run_id)
            cache.commit(tmp, final, manifest)
        except BaseException as exc:
            # the temporary directory goes first: nothing here may wait on a tracking or database call
            full = self._discard(p, stage, tmp, failed, exc)
            self.tracker.end_run(mlflow_run, end_status(exc))
            if full:
                raise DiskFull(full) from exc
            raise
        shutil.rmtree(scratch, ignore_errors=True)  # the stage is done: its checkpoints are not needed to resume
        shutil.rmtree(failed, ignore_errors=True)
        metrics = dict(result.metrics)
        try:
            self.tracker.set_tags(mlflow_run, {"output_uri": final.as_uri()})  # large outputs referenced, not copied
            self.tracker.log_metrics(mlflow_run, {**result.metrics, "seconds": manifest.seconds})
            self.tracker.log_artifact(mlflow_run, final / cache.MANIFEST)
            for rel in result.artifacts:
                self.tracker.log_artifact(mlflow_run, final / rel, str(Path(rel).parent) if "/" in rel else None)
            for name, rows in result.tables.items():
                self.tracker.log_table(mlflow_run, rows, name)
            if stage.publish is not None:  # registry updates: they depend on the registry, not on the stage key
                try:
                    extra = stage.publish(final, stage_cfg, self.tracker, mlflow_run, ctx.log) or {}
                except Exception as exc:  # the registry lives in MLflow: an outage costs the update, not the stage
                    log.warning("%s: model registry not updated (%s: %s); its output is kept", p.stage,
                                type(exc).__name__, str(exc).splitlines()[0][:300] if str(exc) else "")
                    extra = {}
                self.tracker.log_metrics(mlflow_run, extra)
                metrics.update(extra)
        finally:
            self.tracker.end_run(mlflow_run)
        return StageOutcome(p.stage, p.key, False, manifest.seconds, metrics, p.dir, mlflow_run, mlflow_run, run_id,
                            manifest.seconds, list(p.reasons), self.tracker.run_url(mlflow_run))

    def _discard(self, p: StagePlan, stage, tmp: Path, failed: Path, exc: BaseException) -> str | None:
        """Remove a failed attempt's temporary directory, keeping the files worth inspecting; returns
        the one-line explanation when the disk was full. Scratch checkpoints stay: a rerun resumes there."""
        written = diskfull.tree_size(tmp)
        kept = [tmp / rel for rel in stage.kept_on_failure if (tmp / rel).is_file()]
        if kept:
            shutil.rmtree(failed, ignore_errors=True)
            failed.mkdir(parents=True, exist_ok=True)
            for f in kept:
                os.replace(f, failed / f.name)
            log.warning("%s: kept from the failed attempt: %s", p.stage,
                        ", ".join(_rel(failed / f.name, self.workdir) for f in kept))
        shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(exc, Exception):  # a signal or Ctrl-C: not the disk
            return None
        earlier = cache.latest_manifest(self.workdir, p.stage)
        return diskfull.explain(p.stage, exc, tmp, written,
                                sum(f["size"] for f in earlier.files.values()) if earlier else None)

    def _gate(self, record: RunRecord) -> None:
        """Say what the model gate decided in this run, in one line, and to whoever listens (a webhook, the
        executor: a Prefect artifact)."""
        from zerollm import notify
        from zerollm.evaluate.registry import gate_of_run

        result = gate_of_run(self.workdir, record.id)
        if result is None:
            return
        (log.info if result["passed"] else log.warning)("%s", result["line"])
        record.data["gate"] = {"passed": result["passed"], "line": result["line"], "version": result["version"]}
        record.save()
        notify.post(self.cfg.notify, {"event": "promoted" if result["passed"] else "not_promoted",
                                      "line": result["line"], "pipeline": self.cfg.name, "run_id": record.id,
                                      **{k: result[k] for k in ("registered_model", "version", "alias",
                                                                "champion_before", "champion_after", "failures",
                                                                "lineage")}})
        try:
            self.executor.gate(result)
        except Exception as exc:  # an artifact is a convenience: the line is logged and in the record
            log.warning("gate not published by the executor: %s", exc)

    def _report(self, record: RunRecord, parent: str | None) -> None:
        rep = write_report(self.workdir, record, self.tracker, parent, type(self.cfg).registry)
        if rep is not None:
            self.on_event("report", rep)
            try:
                self.executor.report(rep, self.tracker.run_url(parent))
            except Exception as exc:  # an artifact is a convenience; the report is on disk and in MLflow
                log.warning("report not published by the executor: %s", exc)


def end_status(exc: BaseException) -> str:
    """MLflow's end status for a run stopped by `exc`: KILLED for a signal or Ctrl-C, else FAILED."""
    stopped = isinstance(exc, (KeyboardInterrupt, SystemExit)) or type(exc).__name__ == "TerminationSignal"
    return "KILLED" if stopped else "FAILED"


def write_report(workdir: Path, record: RunRecord, tracker: Tracker, parent_run_id: str | None, registry=None):
    """The run's report (`<workdir>/reports/<run id>/`), logged to the pipeline's MLflow run; None when it
    could not be written (a report never fails a run). Its path goes into the run record."""
    from zerollm import report

    try:
        rep = report.write(workdir, record.data, registry)
    except Exception as exc:
        log.warning("run report not written: %s: %s", type(exc).__name__, exc)
        return None
    record.data["report"] = _rel(rep.html, Path(workdir).resolve())
    record.save()
    try:
        tracker.log_artifact(parent_run_id, rep.html.parent, "report")
    except Exception as exc:
        log.warning("run report not logged to MLflow: %s", exc)
    for line in rep.warnings:
        log.warning("%s", line)
    return rep


def run_pipeline(cfg: PipelineBase, workdir: Path, until: str | None = None, force: tuple[str, ...] = (),
                 executor: Executor | None = None, on_event: Callable[[str, object], None] | None = None,
                 run_id: str | None = None, resumed_from: str | None = None,
                 plans: list[StagePlan] | None = None) -> list[StageOutcome]:
    """Plan, check and run the pipeline: inline by default (bare GPU boxes, tests), or through `executor`."""
    return Runner(cfg, workdir, executor, on_event).run(until, tuple(force), run_id, resumed_from, plans)

