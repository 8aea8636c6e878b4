"""What changed in the data between two runs: source files added, removed or changed, the documents they
brought, and the new documents dedup removed as copies of earlier data.

Read from the collect and dedup manifests the two run records point to (collect's `snapshot` lists
every source file with its sha256 and documents kept; dedup's metrics count copies of history), so it
needs no MLflow and works on a moved or copied workdir.
"""

from __future__ import annotations

from pathlib import Path

from zerollm import cache


def _outcome(record: dict, stage: str) -> dict | None:
    return next((s for s in record.get("stages", []) if s.get("stage") == stage), None)


def _manifest(workdir: Path, record: dict, stage: str) -> cache.Manifest | None:
    s = _outcome(record, stage)
    if s is None or not s.get("dir"):
        return None
    try:
        return cache.Manifest.read(Path(workdir) / s["dir"] / cache.MANIFEST)
    except (OSError, ValueError):
        return None


def snapshot(workdir: Path, record: dict) -> list[dict] | None:
    """The run's source files ({source, unit, sha256, docs}), or None when its collect output is gone or older."""
    m = _manifest(workdir, record, "collect")
    return None if m is None or "snapshot" not in m.summary else m.summary["snapshot"]


def data_changes(workdir: Path, a: dict, b: dict) -> dict | None:
    """B's data against A's; None when either run has no readable collect output."""
    snap_a, snap_b = snapshot(workdir, a), snapshot(workdir, b)
    if snap_a is None or snap_b is None:
        return None
    old = {u["unit"]: u for u in snap_a}
    new = {u["unit"]: u for u in snap_b}
    added = [n for n in new if n not in old]
    removed = [n for n in old if n not in new]
    changed = [n for n in new if n in old and new[n]["sha256"] != old[n]["sha256"]]
    dedup = _outcome(b, "dedup") or {}
    metrics = dedup.get("metrics") or {}
    same_collect = (_outcome(a, "collect") or {}).get("key") == (_outcome(b, "collect") or {}).get("key")
    return {"files_added": added, "files_removed": removed, "files_changed": changed,
            "docs_added": sum(new[n]["docs"] for n in added + changed),
            "docs_removed": sum(old[n]["docs"] for n in removed + changed),
            # dedup's count is against the workdir's previous corpus: A's, when B is the next run after A
            "history_removed": None if same_collect else metrics.get("history_removed"),
            "docs_kept_new": None if same_collect else metrics.get("docs_new")}


def describe(d: dict | None) -> str:
    """One line for a terminal or a report."""
    if d is None:
        return "what changed in the data: unknown (a run without a collect output, or made by an older zerollm)"
    if not (d["files_added"] or d["files_removed"] or d["files_changed"]):
        return "data: unchanged"

    def files(names: list[str]) -> str:
        shown = ", ".join(Path(n).name for n in names[:3])
        return f"{len(names)} ({shown}{', …' if len(names) > 3 else ''})" if names else "0"

    parts = [f"files added {files(d['files_added'])}", f"removed {files(d['files_removed'])}",
             f"changed {files(d['files_changed'])}", f"documents added {d['docs_added']}",
             f"documents dropped {d['docs_removed']}"]
    if d.get("history_removed") is not None:
        parts.append(f"new documents removed as copies of earlier data {int(d['history_removed'])}")
    return "data: " + "; ".join(parts)
