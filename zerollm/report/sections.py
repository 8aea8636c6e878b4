"""The report's sections that span stages (the run, the data funnel, training curves, links), and the
helpers every stage's own section uses. A stage's own section lives in its view module
(`Stage.view`). Each reads only what the run left on disk and says plainly what is missing."""

from __future__ import annotations

import time

import yaml

from zerollm import drops
from zerollm.report import charts
from zerollm.report.blocks import Code, Image, Links, Para, Section, Table, Warn
from zerollm.report.view import RunView

EXAMPLES_PER_REASON = 2
SNIPPET = 240


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "–"


def snippet(text: str, n: int = SNIPPET) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def not_run(sec: Section, view: RunView, names: list[str]) -> Section:
    """Say which of `names` this run has no output of, and why."""
    missing = view.missing(*names)
    if missing:
        why = {"failed": "failed", "not run": "did not run"}
        parts = [f"{n} {why.get(view.stage(n).status, 'has no output')}" for n in missing]
        until = view.record.get("until")
        order = view.registry.names
        beyond = until in order and any(n in order and order.index(n) > order.index(until) for n in missing)
        tail = f" (this run stopped after {until})" if beyond else ""
        sec.add(Warn("Not in this run: " + "; ".join(parts) + tail + "."))
    return sec


# --- the run ----------------------------------------------------------------------------------------


def data_changes_section(view: RunView) -> Section:
    """What changed in the data since the workdir's previous run that collected: files, documents, copies."""
    from zerollm.compare import list_runs
    from zerollm.datachanges import data_changes, describe, snapshot

    sec = Section("data-changes", "What changed in the data")
    started = view.record.get("started") or 0
    earlier = [r for r in list_runs(view.workdir) if (r.get("started") or 0) < started and r["run_id"] != view.run_id
               and snapshot(view.workdir, r) is not None]
    if not earlier:
        return sec.add(Para("The first run of this workdir that collected data: nothing to compare with."))
    prev = earlier[-1]
    d = data_changes(view.workdir, prev, view.record)
    sec.add(Para(f"Against run {prev['run_id']}: " + describe(d).removeprefix("data: ") + "."))
    if d:
        rows = [[n, what] for what in ("added", "removed", "changed") for n in d[f"files_{what}"]]
        if rows:
            sec.add(Table(["source file", "what"], rows[:50], "Source files"))
    return sec


def run_section(view: RunView, links: dict) -> Section:
    rec = view.record
    sec = Section("run", "The run")
    took = (rec.get("finished") or time.time()) - rec.get("started", time.time())
    status = rec.get("status", "?")
    sec.add(Para(f"Run {view.run_id} of config “{view.config.get('name', '?')}”: {status}. Started "
                 f"{_when(rec.get('started'))}, {took:.0f} s" + (f", stopped after {rec['until']}" if rec.get("until")
                                                                   else "")
                 + (f", resuming {rec['resumed_from']}" if rec.get("resumed_from") else "") + "."))
    if rec.get("error"):
        sec.add(Warn(f"The run failed: {rec['error'][:400]}"))
    rows = []
    for s in view.stages.values():
        rows.append([s.name, s.status, round(s.seconds, 1) if s.seconds is not None else None,
                     (s.key or "")[:12] or None, "yes" if s.status == "cached" else ("no" if s.done else None),
                     s.built_by_run if s.status == "cached" else None,
                     round(s.built_seconds, 1) if s.status == "cached" and s.built_seconds is not None else None,
                     "; ".join(s.reasons) or None])
    sec.add(Table(["stage", "status", "seconds", "key", "cache hit", "built by run", "seconds then", "why it ran"],
                  rows, "Stages: time, cache hit/miss, and for a cache hit the run that built it"))
    m = rec.get("machine") or {}
    if m:
        sec.add(Table(["machine", ""], [[k, m.get(k)] for k in ("host", "cpu", "cpus", "memory_gb", "accelerator",
                                                                   "platform") if m.get(k) is not None]))
        sec.add(Table(["package", "version"], [[k, v] for k, v in (m.get("versions") or {}).items()],
                      "Versions"))
    else:
        sec.add(Para("Machine and versions were not recorded by the zerollm that made this run."))
    from zerollm.tracking import redact_tree

    sec.add(Code(yaml.safe_dump(redact_tree(view.config), sort_keys=False, allow_unicode=True), "The whole config"))
    return sec


# --- data funnel ------------------------------------------------------------------------------------


def _examples(view: RunView) -> list[list]:
    """A few dropped documents per stage and reason, from each data stage's view."""
    rows: list[list] = []
    for name in view.registry.names:
        make = getattr(view.registry.get(name).presentation(), "examples", None)
        if make is None or not view.stage(name).done:
            continue
        seen: dict[str, int] = {}
        for reason, ident, text in make(view.stage(name), EXAMPLES_PER_REASON):
            if seen.get(reason, 0) < EXAMPLES_PER_REASON:
                seen[reason] = seen.get(reason, 0) + 1
                rows.append([name, reason, ident, snippet(text)])
    return rows


def funnel_section(view: RunView) -> Section:
    sec = Section("data", "Data funnel")
    data_stages = [n for n in view.registry.names if hasattr(view.registry.get(n).presentation(), "losses")]
    if not data_stages:
        return sec.add(Para("This pipeline has no data stage that drops documents."))
    collect = view.stage(data_stages[0])
    if not collect.done:
        return not_run(sec, view, data_stages[:1])
    losses = [loss for loss in (drops.stage_loss(view.registry, n, view.stage(n).metrics, view.stage(n).dir,
                                                 view.config) for n in data_stages if view.stage(n).done) if loss]
    warnings = [loss.line() for loss in losses if loss.share > drops.WARN_SHARE]
    for w in warnings:
        sec.add(Warn(w.removeprefix("warning: ")))
    start = int(collect.metrics.get("docs_in", 0))
    steps = [("collected (records read)", start, 0)]
    left = start
    table = []
    for loss in losses:
        groups: dict[str, int] = {}
        for r in loss.reasons:
            label = f"{loss.stage}: {r.step or r.reason}"
            groups[label] = groups.get(label, 0) + r.count
            table.append([loss.stage, r.step or "–", r.reason, r.count,
                          f"{r.count / loss.docs_in:.1%}" if loss.docs_in else "–", r.key])
        for label, n in groups.items():
            left -= n
            steps.append((label, left, n))
        left = loss.docs_out  # the stage's own count is the truth
    tok = view.stage("tokenizer")
    if tok.done:
        train, val = int(tok.metrics.get("train_docs", 0)), int(tok.metrics.get("val_docs", 0))
        steps.append(("held out for validation", train, val))
        sec.add(Para(f"{start:,} records in, {train:,} documents trained on ({val:,} held out for validation): "
                     f"{train / start:.0%} of what was collected." if start else "No records were collected."))
    sec.add(Image("funnel.png", charts.funnel(steps), "data funnel: documents left after each step"))
    sec.add(Table(["stage", "documents in", "documents out", "dropped", "share dropped"],
                  [[x.stage, x.docs_in, x.docs_out, x.docs_in - x.docs_out, f"{x.share:.1%}"] for x in losses],
                  "Documents per stage"))
    if table:
        sec.add(Table(["stage", "step", "reason", "documents", "share of stage input", "config key that tunes it"],
                      table, "Each loss by reason"))
    ex = _examples(view)
    if ex:
        sec.add(Table(["stage", "reason", "document", "text"], ex, "A few dropped examples per reason"))
    return not_run(sec, view, data_stages[1:])


# --- training curves --------------------------------------------------------------------------------


def _series(rows: list[dict], keys: list[str]) -> dict[str, tuple[list, list]]:
    rows = [r for r in rows if "train_runtime" not in r]  # the Trainer's closing summary, not a step
    out = {}
    for k in keys:
        pts = [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float)) and r.get("step") is not None]
        if pts:
            out[k] = ([p[0] for p in pts], [p[1] for p in pts])
    return out


def curves_section(view: RunView) -> Section:
    """Every training curve the stages declare (`CURVES` in their view), and each model stage's final numbers."""
    sec = Section("training", "Training curves")
    panels: dict = {}
    table = []
    for name in view.registry.names:
        curves = getattr(view.registry.get(name).presentation(), "CURVES", None)
        if not curves:
            continue
        for log_file, spec in curves.items():
            rows = view.stage(name).jsonl(log_file)
            for title, keys in spec:
                s = _series(rows, keys)
                if s:
                    panels[title] = s
        m = view.stage(name).metrics
        if view.stage(name).done:
            table.append([name, m.get("steps"), m.get("train_loss", m.get("loss")), m.get("val_loss"),
                          m.get("val_bpb"), m.get("reward_mean"), m.get("resumed_from_step")])
    if panels:
        sec.add(Image("curves.png", charts.curves(panels), "training curves"))
    if table:
        sec.add(Table(["stage", "steps", "train loss", "val loss", "val bpb", "reward mean", "resumed from step"],
                      table, "Final numbers"))
    return not_run(sec, view, list(view.registry.model_stages))


# --- links ------------------------------------------------------------------------------------------


def links_section(view: RunView, links: dict) -> Section:
    sec = Section("links", "Links")
    items = []
    if links.get("prefect"):
        items.append(("Prefect flow run", links["prefect"]))
    if links.get("mlflow"):
        items.append(("MLflow run of the pipeline", links["mlflow"]))
    for name, url in links.get("stages", {}).items():
        items.append((f"MLflow run of {name}", url))
    if items:
        sec.add(Links(items))
    sec.add(Para("Local stores open with: zerollm ui --workdir WORKDIR, the folder that holds this report's "
                 "reports/ (Prefect on 127.0.0.1:4200, MLflow on 127.0.0.1:5000)."))
    if not items:
        sec.add(Para("Tracking was off for this run: no MLflow runs to link."))
    return sec
