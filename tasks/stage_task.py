"""The Prefect task that wraps any engine stage.

Its cache key is the engine's stage key, so Prefect shows a stage as Cached exactly when the
engine would reuse it; the flow sets `refresh_cache` when the manifest on disk does not verify
(Prefect never looks at the files itself).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from zerollm import runner
from zerollm.pipeline_config import PipelineConfig
from zerollm.stage import get_stage
from zerollm.tracking import Tracker


def _cache_key(context, parameters) -> str:
    plan = parameters["plan"]
    return f"zerollm-{plan['stage']}-{plan['key']}"


@task(cache_key_fn=_cache_key, persist_result=True, cache_expiration=None,
      result_serializer="json")  # results are plain dicts; never unpickle files from a shared workdir
def run_stage(plan: dict, config: dict, workdir: str, parent_run_id: str | None) -> dict:
    cfg = PipelineConfig.model_validate(config)
    tracker = Tracker(cfg.tracking, Path(workdir))
    outcome = runner.execute(runner.StagePlan(**plan), cfg, Path(workdir), tracker, parent_run_id)
    publish(outcome, tracker)
    return asdict(outcome)


def stage_task(plan: runner.StagePlan, workdir: Path, cache_ok: bool):
    """`run_stage` named after its stage, storing results in the workdir."""
    return run_stage.with_options(
        name=plan.stage,
        task_run_name=f"{plan.stage} [{plan.key[:8]}]",
        result_storage=Path(workdir) / "prefect" / "results",  # a Path: a str would name a storage block
        refresh_cache=not cache_ok,
    )


def publish(outcome: runner.StageOutcome, tracker: Tracker) -> None:
    """A Prefect artifact per stage: its metrics as a table and a link to its MLflow run."""
    url = tracker.run_url(outcome.mlflow_run_id)
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in sorted(outcome.metrics.items()))
    link = f"[MLflow run]({url})" if url else "tracking off"
    md = (f"### {outcome.stage} — {'cache hit' if outcome.cache_hit else 'ran'} in {outcome.seconds:.1f}s\n\n"
          f"key `{outcome.key}` · {link} · `{outcome.dir}`\n\n| metric | value |\n|---|---|\n{rows}\n")
    create_markdown_artifact(md, key=f"zerollm-{outcome.stage}", description=f"{outcome.stage} stage summary")
    table = _table(outcome)
    if table:
        create_table_artifact(table, key=f"zerollm-{outcome.stage}-table",
                              description=f"{outcome.stage}: {getattr(get_stage(outcome.stage).load(), 'TABLE', '')}")


def _table(outcome: runner.StageOutcome) -> list[dict] | None:
    """A stage's result table (module attribute TABLE: a JSON list of flat rows in its directory)."""
    name = getattr(get_stage(outcome.stage).load(), "TABLE", None)
    path = Path(outcome.dir) / name if name else None
    if path is None or not path.is_file():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [{k: (_fmt(v) if isinstance(v, float) else v if isinstance(v, (int, str, bool)) or v is None
                 else json.dumps(v)) for k, v in r.items()} for r in rows]


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
