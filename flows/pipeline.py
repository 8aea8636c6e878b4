"""The pipeline flow: plan every stage key, then run (or reuse) stages in order."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

from prefect import flow
from prefect.runtime import flow_run

from tasks.stage_task import publish, stage_task
from zerollm import runner
from zerollm.pipeline_config import PipelineConfig
from zerollm.tracking import Tracker

# The CLI registers a listener here to draw progress; the flow itself never depends on it.
listeners: list[Callable[[str, object], None]] = []


def _emit(event: str, payload) -> None:
    for fn in listeners:
        fn(event, payload)


def _flow_run_name() -> str:
    """`<config name> <run id>`: two runs of one config are told apart in the Prefect UI."""
    params = flow_run.parameters or {}
    name = (params.get("config") or {}).get("name") or Path(params.get("config_file") or "zerollm").stem
    return f"{name} {params.get('run_id') or runner.new_run_id()}"


@flow(name="zerollm-pipeline", flow_run_name=_flow_run_name, validate_parameters=False)
def pipeline(config: dict | None = None, workdir: str = "work", until: str | None = None,
             force: list[str] | None = None, run_id: str | None = None, resumed_from: str | None = None,
             config_file: str | None = None, overrides: list[str] | None = None) -> list[dict]:
    """`config` (a resolved config, as `zerollm run`/`deploy` pass it) or `config_file` + `overrides`
    (read when the run starts, as a `prefect.yaml` deployment passes them)."""
    if config is None:
        from zerollm.config import load_config

        config = load_config(PipelineConfig, config_file, overrides or []).model_dump(mode="json")
    cfg = PipelineConfig.model_validate(config)
    work = Path(workdir).resolve()
    plans = runner.plan(cfg, work, until, tuple(force or ()))
    _emit("planned", plans)
    tracker = Tracker(cfg.tracking, work)
    runner.mark_stale_runs(work, tracker)
    parent = tracker.start_run(cfg.name, tags={"zerollm.kind": "pipeline", "workdir": str(work),
                                               "prefect_flow_run_id": str(flow_run.get_id() or ""),
                                               "zerollm.run_id": run_id or "", "resumed_from": resumed_from or ""})
    tracker.log_params(parent, {"until": until or "", "force": ",".join(force or [])})
    record = runner.RunRecord(work, config, parent, run_id=run_id, until=until, resumed_from=resumed_from)
    record.data["prefect"] = {"flow_run_id": str(flow_run.get_id() or ""), "flow_run_url": _flow_run_url()}
    record.save()
    outcomes = []
    try:
        for p in plans:
            _emit("start", p)
            manifest = p.cached()
            state = stage_task(p, work, cache_ok=manifest is not None)(
                asdict(p), config, str(work), parent, return_state=True)
            if state.is_failed():
                state.result()  # raises the stage's own exception
            if state.name == "Cached" and manifest is not None:
                outcome = runner.reuse(p, manifest, tracker, parent)
                publish(outcome, tracker)
            else:
                outcome = runner.StageOutcome(**state.result())
            record.add(outcome)
            outcomes.append(asdict(outcome))
            _emit("done", outcome)
    except BaseException as exc:
        record.finish("failed", exc)
        if runner.end_status(exc) == "FAILED":  # stopped by a signal: no time to spare, `zerollm report` writes it
            _report(work, record, tracker, parent)
        tracker.end_run(parent, runner.end_status(exc))
        raise
    record.finish("completed")
    _report(work, record, tracker, parent)
    tracker.end_run(parent)
    return outcomes


def _flow_run_url() -> str | None:
    """This flow run in the Prefect UI: the configured server's, else the one `zerollm ui` serves from
    the workdir's own Prefect database (where the temporary server of `zerollm run` stored it)."""
    from prefect.settings import get_current_settings

    run = flow_run.get_id()
    if not run:
        return None
    ui = get_current_settings().ui_url or "http://127.0.0.1:4200"  # None: no server configured
    return f"{str(ui).rstrip('/')}/runs/flow-run/{run}"


def _report(work: Path, record: runner.RunRecord, tracker: Tracker, parent: str | None) -> None:
    """The run report, logged to MLflow by the engine, linked from a Prefect artifact here."""
    rep = runner.write_report(work, record, tracker, parent)
    if rep is None:
        return
    _emit("report", rep)
    try:
        from prefect.artifacts import create_markdown_artifact

        lines = [f"### Run report: [{rep.html}]({rep.html.as_uri()})", ""]
        url = tracker.run_url(parent)
        if url:
            lines.append(f"Also in the pipeline's [MLflow run]({url}), artifacts → report/.")
        lines += [f"- ⚠ {w.removeprefix('warning: ')}" for w in rep.warnings]
        create_markdown_artifact("\n".join(lines), key="zerollm-report", description="the run report")
    except Exception as exc:  # the artifact is a convenience; the report is on disk and in MLflow
        runner.log.warning("no Prefect artifact for the report: %s", exc)
