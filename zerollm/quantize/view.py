"""How the run report shows quantize: each GGUF type against its source, and the gate's verdict."""

from __future__ import annotations

import json

from zerollm.report import charts
from zerollm.report.blocks import Image, Para, Section, Table
from zerollm.report.sections import not_run


def section(view) -> Section:
    sec = Section("quantization", "Quantization")
    q = view.stage("quantize")
    rows = q.json("quant_table.json") if q.done else None
    if not rows:
        return not_run(sec, view, ["quantize"])
    sec.add(Image("quant.png", charts.quant(rows), "GGUF file size against quality per type"))
    sec.add(Table(["type", "size MB", "bits/weight", "Δppl %", "top-1", "tok/s", "× HF"],
                  [[r["type"], r["size_mb"], r["bpw"], r["ppl_delta_pct"], r["top1"], r["tok_per_s"],
                    r["speedup"]] for r in rows], "Each GGUF type against the HF model it came from"))
    gate = view.stage("evaluate").json("gate.json") if view.stage("evaluate").done else None
    if gate:
        verdict = "failed" if gate.get("failures") else "passed"
        sec.add(Para(f"Gate: the served file ({gate['serve_type']}) may lose at most {gate['tolerance']:.0%} against "
                     f"{gate['source']} on each primary score. It {verdict}."))
        last = view.workdir / "registry" / "last_gate.json"
        reg = json.loads(last.read_text(encoding="utf-8")) if last.is_file() else {}
        if str(reg.get("version")) != str(int(view.stage("evaluate").metrics.get("registry_version", -1))):
            reg = {}  # the registry's last gate is another run's (or this run reused evaluate from the cache)
        checks = reg.get("checks") or gate.get("checks", [])
        sec.add(Table(["check", "task", "metric", "served file", "reference", "tolerance", "ok"],
                      [[c["check"], c["task"], c["metric"], c["new"], c["reference"], f"{c['tolerance']:.0%}",
                        "yes" if c["ok"] else "NO"] for c in checks], "The gate's checks"))
        if reg:
            after = reg.get("champion_after")
            sec.add(Para(f"Registry: {reg['registered_model']} v{reg['version']} registered; "
                         f"{reg['alias']} → " + (f"v{after}" if after else "no version")
                         + (" (promoted)." if reg.get("passed") else " (unchanged: the gate failed).")))
    else:
        not_run(sec, view, ["evaluate"])
    return sec
