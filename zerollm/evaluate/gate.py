"""The quantization gate: may the served GGUF replace the current champion?

Two checks, each on every local task's primary number (report.PRIMARY), with one tolerance
(`quantize.max_regression`, a fraction of the reference score; for bits per byte, which falls as the
model gets better, the fraction it may rise by):
- quant: the served quant type against the HF checkpoint it was made from (same run);
- champion: the served quant against the scores the current champion version carries.
"""

from __future__ import annotations

from zerollm.evaluate.report import PRIMARY


def _within(new: float, ref: float, higher: bool, tol: float) -> bool:
    eps = 1e-12
    return new >= ref * (1 - tol) - eps if higher else new <= ref * (1 + tol) + eps


def compare(new: dict[str, float], ref: dict[str, float], tol: float, what: str) -> list[dict]:
    """`new`/`ref`: {task: primary score}. One row per task both have."""
    rows = []
    for task, (metric, higher) in PRIMARY.items():
        if task in new and task in ref:
            ok = _within(new[task], ref[task], higher, tol)
            rows.append({"check": what, "task": task, "metric": metric, "new": new[task], "reference": ref[task],
                         "higher_is_better": higher, "tolerance": tol, "ok": ok})
    return rows


def failures(rows: list[dict]) -> list[str]:
    return [f"{r['check']}: {r['task']} {r['metric']} {r['new']:.4g} vs {r['reference']:.4g} "
            f"(tolerance {r['tolerance']:.1%}, {'higher' if r['higher_is_better'] else 'lower'} is better)"
            for r in rows if not r["ok"]]


def primary_scores(rows: list[dict], model: str) -> dict[str, float]:
    return {r["task"]: r["value"] for r in rows
            if r["model"] == model and r["task"] in PRIMARY and r["metric"] == PRIMARY[r["task"]][0]}


_TASK_NAMES = {"qa_gen": "qa", "qa_mc": "qa multiple choice", "heldout_ppl": "held-out"}


def verdict(result: dict) -> str:
    """One line for the run's end: promoted, or the first regression that refused it."""
    alias, name, before = result["alias"], result["registered_model"], result["champion_before"]
    if result["passed"]:
        was = f" (was v{before})" if before and before != result["version"] else ""
        return f"promoted: {name} v{result['version']} is the new {alias}{was}"
    bad = [r for r in result["checks"] if not r["ok"]]
    row = next((r for r in bad if r["check"].startswith("champion")), bad[0] if bad else None)
    stays = f"{alias} stays v{before}" if before else f"no {alias} yet"
    if row is None:
        return f"not promoted: {'; '.join(result['failures'])[:300]}; {stays}"
    what = f"{_TASK_NAMES.get(row['task'], row['task'])} {row['metric'].replace('_', ' ')}"
    moved = "fell" if row["higher_is_better"] else "rose"
    against = "" if row["check"].startswith("champion") else f" against {row['check']}"
    return (f"not promoted: {what} {moved} from {row['reference']:.2f} to {row['new']:.2f}{against} (tolerance "
            f"{row['tolerance']:.0%}); {stays}")
