"""Each engine stage as a Prefect task: the engine decides reuse or run, Prefect shows it.

The runner (`zerollm.runner`) makes the cache decision; this executor wraps the call in a task named
after the stage, marks a reused stage `Cached` and adds a summary artifact per stage. Prefect's own
result cache is not used: it does not look at files on disk (prefect #8637, #17137), and a second
cache would be a second place that decides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed

from zerollm.runner import StageOutcome, StagePlan


@task(cache_policy=NO_CACHE, persist_result=False)
def run_stage(call: Callable[[], StageOutcome], table: str | None, workdir: str):
    outcome = call()
    publish(outcome, table, Path(workdir))
    if outcome.cache_hit:  # the engine reused it: show it as Prefect shows its own cache hits
        return Completed(name="Cached", data=outcome, message=f"reused {outcome.dir}")
    return outcome


class PrefectExecutor:
    """Runs each planned stage as a task of the current flow run."""

    def __init__(self, registry, workdir: Path):
        self.registry = registry
        self.workdir = Path(workdir)

    def info(self) -> dict:
        from prefect.runtime import flow_run

        run = str(flow_run.get_id() or "")
        return {"tags": {"prefect_flow_run_id": run},
                "record": {"prefect": {"flow_run_id": run, "flow_run_url": flow_run_url(run)}}}

    def stage(self, plan: StagePlan, call: Callable[[], StageOutcome]) -> StageOutcome:
        t = run_stage.with_options(name=plan.stage, task_run_name=f"{plan.stage} [{plan.key[:8]}]")
        state = t(call, self.registry.get(plan.stage).table, str(self.workdir), return_state=True)
        return state.result()  # raises the stage's own exception when it failed

    def report(self, rep, pipeline_url: str | None) -> None:
        """A Prefect artifact that links the run report (and the pipeline's MLflow run)."""
        lines = [f"### Run report: [{rep.html}]({rep.html.as_uri()})", ""]
        if pipeline_url:
            lines.append(f"Also in the pipeline's [MLflow run]({pipeline_url}), artifacts → report/.")
        lines += [f"- ⚠ {w.removeprefix('warning: ')}" for w in rep.warnings]
        create_markdown_artifact("\n".join(lines), key="zerollm-report", description="the run report")


    def gate(self, result: dict) -> None:
        """A Prefect artifact with the gate's decision and the checks behind it."""
        rows = "\n".join(f"| {r['check']} | {r['task']} {r['metric']} | {r['new']:.4g} | {r['reference']:.4g} | "
                         f"{'ok' if r['ok'] else '**regressed**'} |" for r in result["checks"])
        text = (f"### {'✅' if result['passed'] else '⛔'} {result['line']}\n\n"
                f"| check | score | new | reference | |\n|---|---|---|---|---|\n{rows}\n")
        create_markdown_artifact(text, key="zerollm-gate", description=result["line"][:200])


def flow_run_url(run: str) -> str | None:
    """This flow run in the Prefect UI: the configured server's, else the one `zerollm ui` serves from
    the workdir's own Prefect database (where the temporary server of `zerollm run` stored it)."""
    from prefect.settings import get_current_settings

    if not run:
        return None
    ui = get_current_settings().ui_url or "http://127.0.0.1:4200"  # None: no server configured
    return f"{str(ui).rstrip('/')}/runs/flow-run/{run}"


def publish(outcome: StageOutcome, table: str | None, workdir: Path) -> None:
    """A Prefect artifact per stage: its metrics as a table, why it ran, and a link to its MLflow run."""
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in sorted(outcome.metrics.items()))
    link = f"[MLflow run]({outcome.mlflow_url})" if outcome.mlflow_url else "tracking off"
    if outcome.cache_hit:
        how = f"cache hit (built by run {outcome.built_by_run or '?'} in {outcome.built_seconds or 0:.1f}s)"
    else:
        how = f"ran in {outcome.seconds:.1f}s: " + "; ".join(outcome.reasons)
    md = (f"### {outcome.stage} — {how}\n\n"
          f"key `{outcome.key}` · {link} · `{outcome.dir}`\n\n| metric | value |\n|---|---|\n{rows}\n")
    create_markdown_artifact(md, key=f"zerollm-{outcome.stage}", description=f"{outcome.stage} stage summary")
    rows_t = _table(workdir / outcome.dir / table) if table else None
    if rows_t:
        create_table_artifact(rows_t, key=f"zerollm-{outcome.stage}-table", description=f"{outcome.stage}: {table}")


def _table(path: Path) -> list[dict] | None:
    if not path.is_file():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [{k: (_fmt(v) if isinstance(v, float) else v if isinstance(v, (int, str, bool)) or v is None
                 else json.dumps(v)) for k, v in r.items()} for r in rows]


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
