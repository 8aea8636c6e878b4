"""`zerollm report`: one page that tells the story of a run, stage by stage, with its numbers and
pictures (report.html, self-contained; report.md beside it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from zerollm import drops
from zerollm.report import charts, render, sections
from zerollm.report.blocks import Section, Warn
from zerollm.report.view import RunView

log = logging.getLogger("zerollm.report")
REPORTS_DIR = "reports"


@dataclass
class Report:
    html: Path
    markdown: Path
    warnings: list[str]  # stages that lost more than half of their input


def _links(view: RunView) -> dict:
    """MLflow run links (when tracking was on) and the Prefect flow run (when the flow recorded one)."""
    out: dict = {"stages": {}}
    prefect = view.record.get("prefect") or {}
    if prefect.get("flow_run_url"):
        out["prefect"] = prefect["flow_run_url"]
    cfg = view.config.get("tracking") or {}
    if not cfg.get("enabled", True) or not view.record.get("mlflow_run_id"):
        return out
    try:
        from zerollm.tracking import Tracker, TrackingConfig

        tracker = Tracker(TrackingConfig.model_validate(view.config.get("tracking") or {}), view.workdir)
        out["mlflow"] = tracker.run_url(view.record["mlflow_run_id"])
        for name, s in view.stages.items():
            if s.mlflow_run_id:
                out["stages"][name] = tracker.run_url(s.mlflow_run_id)
    except Exception as exc:  # the report of a run must not depend on its tracking server being up
        log.warning("report: no MLflow links (%s)", exc)
    return out


def _section_makers(registry) -> list:
    """The data funnel, then each stage's own section in stage order, the training curves after the
    first stage that has curves: all derived from the registry."""
    makers = [sections.funnel_section, sections.data_changes_section]
    for s in registry.stages:
        view = s.presentation()
        if getattr(view, "CURVES", None) and sections.curves_section not in makers:
            makers.append(sections.curves_section)
        if hasattr(view, "section"):
            makers.append(view.section)
    return makers


def _sections(view: RunView, registry) -> list[Section]:
    built = []
    for make in _section_makers(registry):
        try:
            built.append(make(view))
        except Exception as exc:  # one unreadable file must not cost the whole report
            where = f"{make.__module__}.{make.__name__}"
            log.warning("report: section %s failed: %s", where, exc)
            built.append(Section(where.rsplit(".", 2)[-2], where).add(
                Warn(f"This section could not be drawn: {type(exc).__name__}: {exc}")))
    return built


def write(workdir: Path, record: dict, registry=None) -> Report:
    """Write `<workdir>/reports/<run id>/report.html` and `report.md` for a run record."""
    if registry is None:
        from zerollm.registry import STAGES as registry
    view = RunView.load(Path(workdir).resolve(), record, registry)
    links = _links(view)
    built = [sections.run_section(view, links)]
    with charts.cache_in(view.workdir / REPORTS_DIR / ".charts"):
        built += _sections(view, registry)
    built.append(sections.links_section(view, links))
    out = view.workdir / REPORTS_DIR / view.run_id
    out.mkdir(parents=True, exist_ok=True)
    name = view.config.get("name", "zerollm")
    title = f"zerollm run report · {name} · {view.run_id}"
    subtitle = f"status {view.record.get('status')}"
    lang = "zh" if "zh" in str(name) else "en"
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(render.to_html(title, subtitle, built, lang), encoding="utf-8")
    md_path.write_text(render.to_markdown(title, subtitle, built, out / "img"), encoding="utf-8")
    return Report(html_path, md_path, drops.warnings(record, view.workdir, registry))
