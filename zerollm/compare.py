"""Compare two pipeline runs from their run records (`<workdir>/runs/<id>.json`).

The records already hold everything a comparison needs (the whole config, and per stage its key,
cache hit and metrics), so this reads no MLflow and imports no Prefect: it works on a bare GPU box
with tracking off, and it is fast enough for a CLI.

A stage key covers the stage's config, its inputs' keys and its code, so "same key" means "the very
same cached output": that is how we say which stages two runs shared.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Any

from zerollm.registry import STAGES
from zerollm.tracking import flatten, redact_tree

log = logging.getLogger("zerollm.compare")

RUNS_DIR = "runs"
LATEST = "latest.json"  # a copy of the newest-saved record: listing it too would count that run twice
MAX_METRICS = 12  # per stage in render(); --json has all of them
_LATEST_REF = re.compile(r"^latest(?:~(\d*))?$")
_MISSING = object()


class RunNotFound(ValueError):
    """A run reference that matches no run, or more than one; the message is one line for a terminal."""


# --- finding runs ---------------------------------------------------------------------------------


def list_runs(workdir: Path) -> list[dict]:
    """Every readable run record, oldest first by start time (the order `latest~N` counts in).

    A record is rewritten atomically after each stage, but a half-copied workdir or a hand-edited
    file must not make every comparison fail, so unreadable files are skipped with a warning.
    """
    runs = Path(workdir) / RUNS_DIR
    if not runs.is_dir():
        return []
    records = []
    for path in runs.glob("*.json"):
        if path.name == LATEST or path.name.startswith("."):  # .<id>.json.part: a save in progress
            continue
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            log.warning("skipping unreadable run record %s: %s", path, e)
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("run_id"), str):
            log.warning("skipping %s: not a run record (no run_id)", path)
            continue
        records.append(rec)
    return sorted(records, key=lambda r: (_num(r.get("started")) or 0.0, r["run_id"]))


def resolve(workdir: Path, ref: str) -> dict:
    """The run record `ref` names: `latest`, `latest~N`, a run id, a unique id prefix or an MLflow run id.

    `latest` is the newest by start time (not `runs/latest.json`, which is the last *saved* record
    and, with two runs going at once, not necessarily the newest), so `latest~1 latest` always means
    "the run before the newest, and the newest".
    """
    ref = ref.strip()
    runs = list_runs(workdir)
    where = Path(workdir) / RUNS_DIR
    if not runs:
        raise RunNotFound(f"{ref!r}: no runs in {where} yet (zerollm run --workdir {workdir})")
    m = _LATEST_REF.match(ref)
    if m:
        n = int(m.group(1)) if m.group(1) else (1 if "~" in ref else 0)  # latest~ is latest~1, as in git
        if n >= len(runs):
            raise RunNotFound(f"{ref!r}: only {len(runs)} run(s) in {where}, so latest~{len(runs) - 1} is the oldest")
        return runs[-1 - n]
    for rec in runs:
        if rec["run_id"] == ref:
            return rec
    by_mlflow = [r for r in runs if ref and r.get("mlflow_run_id") == ref]
    if len(by_mlflow) == 1:
        return by_mlflow[0]
    by_prefix = [r for r in runs if ref and r["run_id"].startswith(ref)]
    if len(by_prefix) == 1:
        return by_prefix[0]
    if len(by_prefix) > 1:
        ids = ", ".join(r["run_id"] for r in by_prefix[-5:])
        raise RunNotFound(f"{ref!r} is ambiguous: {len(by_prefix)} runs start with it (e.g. {ids}); give more of the id")
    newest = ", ".join(r["run_id"] for r in reversed(runs[-3:]))
    raise RunNotFound(f"{ref!r}: no such run in {where}; use latest, latest~N (N < {len(runs)}), a run id or a "
                      f"unique prefix of one, or an MLflow run id; newest: {newest}")


# --- comparing ------------------------------------------------------------------------------------


def compare(workdir: Path, ref_a: str, ref_b: str) -> dict:
    """Resolve both refs and compare them (A is the baseline: deltas are B - A). Raises RunNotFound."""
    a, b = resolve(workdir, ref_a), resolve(workdir, ref_b)
    from zerollm.datachanges import data_changes

    return {**compare_records(a, b), "data": data_changes(workdir, a, b)}


def compare_records(a: dict, b: dict) -> dict:
    """The JSON-able comparison of two run records (see compare())."""
    cfg_a, cfg_b = a.get("config") or {}, b.get("config") or {}
    out_a, out_b = _outcomes(a), _outcomes(b)
    stages: list[dict] = []
    for name in _stage_order(out_a, out_b):
        sa, sb = out_a.get(name), out_b.get(name)
        key_a, key_b = (sa or {}).get("key"), (sb or {}).get("key")
        shared = sa is not None and sb is not None and key_a == key_b and key_a is not None
        stages.append({
            "stage": name,
            "in_a": sa is not None,
            "in_b": sb is not None,
            "key_a": key_a,
            "key_b": key_b,
            "shared": shared,
            "reused_by_b": shared and bool(sb.get("cache_hit")),
            "cache_hit_a": None if sa is None else bool(sa.get("cache_hit")),
            "cache_hit_b": None if sb is None else bool(sb.get("cache_hit")),
            "config_diff": config_diff(cfg_a.get(name), cfg_b.get(name), prefix=f"{name}."),
            "metrics": metric_rows((sa or {}).get("metrics"), (sb or {}).get("metrics")),
            # upstream stages (of those compared) whose keys differ: why a key changed with no config change
            "changed_inputs": [t["stage"] for t in stages
                               if t["stage"] in _inputs(name) and t["in_a"] and t["in_b"] and not t["shared"]],
        })
    global_a = redact_tree({k: v for k, v in cfg_a.items() if k not in STAGES.names})  # a webhook URL is a secret
    global_b = redact_tree({k: v for k, v in cfg_b.items() if k not in STAGES.names})
    return {"a": _summary(a), "b": _summary(b), "stages": stages,
            "global_config_diff": config_diff(global_a, global_b)}


def config_diff(a: Any, b: Any, prefix: str = "") -> list[dict]:
    """Differing dotted keys of two config sections; a key one side lacks shows as None there.

    Keys are dotted from the config root (`dedup.threshold`) so a difference reads exactly like the
    override that would reproduce it. Lists (e.g. collect.sources) compare as whole values.
    """
    fa = _flat(a, prefix)
    fb = _flat(b, prefix)
    rows = []
    for key in _union(fa, fb):
        va, vb = fa.get(key, _MISSING), fb.get(key, _MISSING)
        if va is _MISSING or vb is _MISSING or va != vb or type(va) is not type(vb):
            rows.append({"key": key, "a": None if va is _MISSING else va, "b": None if vb is _MISSING else vb})
    return rows


def metric_rows(a: dict | None, b: dict | None) -> list[dict]:
    """Both runs' values for the union of metric names (A's order first); delta = b - a when both are numbers."""
    a, b = a or {}, b or {}
    rows = []
    for name in _union(a, b):
        va, vb = a.get(name), b.get(name)
        na, nb = _num(va), _num(vb)
        delta = nb - na if na is not None and nb is not None else None
        if delta is not None and not math.isfinite(delta):
            delta = None
        elif delta is not None and isinstance(va, int) and isinstance(vb, int):
            delta = int(delta)
        rows.append({"name": name, "a": va, "b": vb, "delta": delta})
    return rows


def _outcomes(rec: dict) -> dict[str, dict]:
    """stage -> its outcome; a record lists each stage once, but if a stage appears twice the last one wins."""
    return {s["stage"]: s for s in rec.get("stages") or [] if isinstance(s, dict) and "stage" in s}


def _inputs(name: str) -> tuple[str, ...]:
    return STAGES.inputs(name) if name in STAGES.names else ()


def _stage_order(out_a: dict, out_b: dict) -> list[str]:
    """Pipeline order; a stage name this version does not know (an old or newer record) goes last."""
    names = _union(out_a, out_b)
    return [n for n in STAGES.names if n in names] + [n for n in names if n not in STAGES.names]


def _summary(rec: dict) -> dict:
    """What tells two runs apart at a glance; `until`/`resumed_from`/`error` are absent from older records."""
    return {"id": rec.get("run_id"), "status": rec.get("status"), "started": rec.get("started"),
            "finished": rec.get("finished"), "mlflow_run_id": rec.get("mlflow_run_id"),
            "name": (rec.get("config") or {}).get("name"), "until": rec.get("until"),
            "resumed_from": rec.get("resumed_from"), "error": rec.get("error")}


def _flat(section: Any, prefix: str) -> dict[str, Any]:
    """A stage section is a dict; None (a record from before the stage existed) is an empty one."""
    if section is None:
        return {}
    return flatten(section, prefix) if isinstance(section, dict) else {prefix.rstrip(".") or "value": section}


def _union(a: dict, b: dict) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _num(v: Any) -> float | None:
    """A metric as a number, or None: bools are flags (gate_passed), not quantities to subtract."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


# --- rendering ------------------------------------------------------------------------------------


def render(result: dict, max_metrics: int = MAX_METRICS) -> str:
    """A plain-text report (no rich markup): the CLI prints it as is and tests can assert on it.

    Shared stages are one line each unless something differs (their outputs are the same files, so
    only publish-time extras such as a registry version can); for the rest, the config keys that
    differ and the metrics, the ones that changed first.
    """
    a, b = result["a"], result["b"]
    lines = [_run_line("A", a), _run_line("B", b)]
    if result["global_config_diff"]:
        lines.append("config: " + "; ".join(_diff_text(d) for d in result["global_config_diff"]))
    if "data" in result:
        from zerollm.datachanges import describe

        lines.append(describe(result["data"]))
    stages = result["stages"]
    if not stages:
        lines.append("neither run has finished a stage yet")
        return "\n".join(lines)
    width = max(len(s["stage"]) for s in stages)
    lines.append("")
    for s in stages:
        lines.append(_clip(f"{s['stage']:<{width}}  {_stage_verdict(s)}"))
        for d in s["config_diff"]:
            lines.append(_clip(f"    {_diff_text(d)}"))
        rows = [r for r in s["metrics"] if not s["shared"] or _changed(r)]
        lines.extend(_metric_table(rows, max_metrics))
    shared = sum(s["shared"] for s in stages)
    both = sum(s["in_a"] and s["in_b"] for s in stages)
    lines += ["", f"{shared} of {both} stage(s) in both runs shared through the cache (same key); deltas are B - A"]
    return "\n".join(lines)


def _run_line(label: str, run: dict) -> str:
    started = _num(run.get("started"))
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started is not None else "?"
    parts = [f"{label}: {run.get('id')}", str(run.get("status")), f"started {when}"]
    if run.get("until"):
        parts.append(f"until {run['until']}")
    if run.get("mlflow_run_id"):
        parts.append(f"mlflow {run['mlflow_run_id']}")
    return _clip("  ".join(parts))


def _stage_verdict(s: dict) -> str:
    ka, kb = (s["key_a"] or "")[:8], (s["key_b"] or "")[:8]
    if not s["in_b"]:
        return f"only in A  key {ka}"
    if not s["in_a"]:
        return f"only in B  key {kb}"
    if s["shared"]:
        how = "B reused the cached output" if s["reused_by_b"] else "B re-ran it (forced or evicted cache)"
        return f"shared     key {ka}  {how}"
    how = "B cache hit (an older run's output)" if s["cache_hit_b"] else "B ran it"
    if s.get("changed_inputs"):
        why = "inputs differ: " + ", ".join(s["changed_inputs"])
    elif s["config_diff"]:
        why = "config differs"
    else:
        why = "same config and inputs: code or source data changed"
    return f"differs    key {ka} -> {kb}  {how}; {why}"


def _metric_table(rows: list[dict], cap: int) -> list[str]:
    if not rows:
        return []
    rows = [r for r in rows if _changed(r)] + [r for r in rows if not _changed(r)]
    shown, more = rows[:cap], len(rows) - cap
    cells = [(r["name"], _fmt(r["a"]), _fmt(r["b"]), _fmt_delta(r["delta"])) for r in shown]
    nw = min(48, max(len("metric"), *(len(c[0]) for c in cells)))
    vw = [min(18, max(len(h), *(len(c[i]) for c in cells))) for i, h in ((1, "A"), (2, "B"), (3, "delta"))]
    out = [f"    {'metric':<{nw}}  {'A':>{vw[0]}}  {'B':>{vw[1]}}  {'delta':>{vw[2]}}"]
    for name, va, vb, dv in cells:
        out.append(f"    {_cut(name, nw):<{nw}}  {_cut(va, vw[0]):>{vw[0]}}  {_cut(vb, vw[1]):>{vw[1]}}  "
                   f"{_cut(dv, vw[2]):>{vw[2]}}".rstrip())
    if more > 0:
        out.append(f"    (+{more} more, see --json)")
    return out


def _changed(row: dict) -> bool:
    return row["a"] != row["b"] or type(row["a"]) is not type(row["b"])


def _diff_text(d: dict) -> str:
    return f"{d['key']}: {_value(d['a'])} -> {_value(d['b'])}"


def _value(v: Any) -> str:
    """Config values as in JSON (null, true, quoted strings) so a missing key and "None" are told apart."""
    return _cut(json.dumps(v, default=str), 50)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _fmt_delta(v: Any) -> str:
    if v is None:
        return ""
    if v == 0:
        return "0"
    if isinstance(v, int):
        return f"{v:+d}"
    return f"{v:+.4g}"


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _clip(line: str, n: int = 119) -> str:
    return _cut(line, n)
