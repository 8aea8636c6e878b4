"""The pipeline flow: the engine's runner, with each stage executed as a Prefect task."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Completed

from tasks.stage_task import PrefectExecutor
from zerollm import runner
from zerollm.pipeline_config import PipelineBase, PipelineConfig
from zerollm.evaluate.registry import gate_of_run
from zerollm.records import new_run_id

NOT_PROMOTED = "Not promoted"  # the state name of a flow run whose model the gate refused

# The CLI registers a listener here to draw progress; the flow itself never depends on it.
listeners: list[Callable[[str, object], None]] = []


def _emit(event: str, payload) -> None:
    for fn in listeners:
        fn(event, payload)


def _flow_run_name() -> str:
    """`<config name> <run id>`: two runs of one config are told apart in the Prefect UI."""
    params = flow_run.parameters or {}
    cfg = params.get("config")
    name = (cfg.name if isinstance(cfg, PipelineBase) else (cfg or {}).get("name")) \
        or Path(params.get("config_file") or "zerollm").stem
    return f"{name} {params.get('run_id') or new_run_id()}"


@flow(name="zerollm-pipeline", flow_run_name=_flow_run_name, validate_parameters=False)
def pipeline(config: PipelineBase | dict | None = None, workdir: str = "work", until: str | None = None,
             force: list[str] | None = None, run_id: str | None = None, resumed_from: str | None = None,
             config_file: str | None = None, overrides: list[str] | None = None,
             plans: list | None = None) -> list[dict]:
    """`config`: a validated config (`zerollm run`), a dict (`zerollm deploy`), or None with `config_file`
    + `overrides` (a `prefect.yaml` deployment); parsed here once, then only passed along. `plans`: what
    `zerollm run` planned and checked for this config moments before (else the flow plans)."""
    cfg = _config(config, config_file, overrides)
    work = Path(workdir).resolve()
    run_id = run_id or new_run_id()
    outcomes = runner.run_pipeline(cfg, work, until, tuple(force or ()), PrefectExecutor(type(cfg).registry, work),
                                   _emit, run_id, resumed_from, plans)
    result = [asdict(o) for o in outcomes]
    gate = gate_of_run(work, run_id)
    if gate is not None and not gate["passed"]:
        # a refusal is the gate working, not a crash: the run completes under a name the Prefect UI shows
        return Completed(name=NOT_PROMOTED, message=gate["line"], data=result)
    return result


def _config(config, config_file: str | None, overrides: list[str] | None) -> PipelineBase:
    if isinstance(config, PipelineBase):
        return config
    if config is None:
        from zerollm.config import load_config

        return load_config(PipelineConfig, config_file, overrides or [])
    return PipelineConfig.model_validate(config)
