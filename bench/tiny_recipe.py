"""Benchmark the whole embedded default: `zerollm run` on a config from a fresh workdir, its wall time,
each stage's seconds, the held-out probe after pretrain, sft and rlhf, the GGUF table (quantize) and the
lm-eval table (evaluate). Writes them into docs/benchmarks.md.

    .venv/bin/python bench/tiny_recipe.py [--config configs/tiny.yaml] [--workdir /tmp/zerollm-bench] [--seeds 0 1 2]

With several seeds (pretrain, sft and rlhf seeds; the data is the same), each runs in its own fresh
workdir and a second section gives what each model stage taught per seed: the paired change in
held-out exact match against the stage before, its 95 % interval, answers fixed and broken.

Targets (issue 6): qa_mc_accuracy after pretrain ≥ 2× chance; held-out qa_exact_match
pretrain < sft, sft ≥ 0.30, rlhf ≥ sft; the whole run ≤ 10 minutes on 2 CPU cores.
Targets (issue 23): pretraining ≤ 0.6e14 FLOPs; for every seed both pretrain→sft and sft→rlhf have a
paired interval above zero; MC after sft ≥ MC after pretrain − 0.02; the run ≤ 300 s.
Targets (issue 7): F16 top-1 agreement with HF ≥ 99 %; Δppl Q8_0 ≤ +0.5 %, Q4_K_M ≤ +5 %; llama.cpp
≥ 5× HF generate tokens/s; in the lm-eval table exact match pretrain < sft ≤ rlhf, Q8_0 within the gate.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import machine, put_section  # noqa: E402

from zerollm.registry import STAGES  # noqa: E402

MODEL_STAGES = STAGES.model_stages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/tiny.yaml")
    ap.add_argument("--workdir", default="/tmp/zerollm-bench")
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--from-json", help="Rewrite the docs section from a saved bench.json (or seeds.json) instead "
                                        "of running.")
    args = ap.parse_args()
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        write_section(saved[0] if isinstance(saved, list) else saved)
        if isinstance(saved, list):
            write_seeds_section(saved)
        return
    reports = []
    for seed in args.seeds:
        workdir = args.workdir if len(args.seeds) == 1 else f"{args.workdir}/seed{seed}"
        seeded = [f"{s}.seed={seed}" for s in MODEL_STAGES] if seed else []
        reports.append(run_once(args.config, workdir, args.overrides + seeded))
        reports[-1]["seed"] = seed
    write_section(reports[0])
    if len(reports) > 1:
        Path(args.workdir, "seeds.json").write_text(json.dumps(reports, indent=2))
        write_seeds_section(reports)


def run_once(config: str, workdir: str, overrides: list[str]) -> dict:
    shutil.rmtree(workdir, ignore_errors=True)
    exe = Path(sys.executable).with_name("zerollm")
    cmd = [str(exe), "run", "--config", config, "--workdir", workdir]
    for o in overrides:
        cmd += ["--set", o]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    t0 = time.time()
    subprocess.run(cmd, cwd=REPO, check=True, env=env)
    wall = time.time() - t0
    status = json.loads(subprocess.run([str(exe), "status", "--workdir", workdir, "--json"], cwd=REPO,
                                       check=True, capture_output=True, text=True, env=env).stdout)
    stages = {s["stage"]: s for s in status["stages"]}
    report = {"config": config, "overrides": overrides, "wall_seconds": wall,
              "stages": {k: {"seconds": v["seconds"], "metrics": v["metrics"]} for k, v in stages.items()}}
    for stage, table in (("quantize", "quant_table.md"), ("evaluate", "eval_table.md")):
        path = Path(stages[stage]["dir"]) / table if stage in stages else None
        report[table] = path.read_text(encoding="utf-8") if path and path.is_file() else ""
    gate = Path(workdir, "registry", "last_gate.json")
    report["gate"] = json.loads(gate.read_text()) if gate.is_file() else None
    report["date"] = time.strftime("%Y-%m-%d")
    report["machine"] = machine()
    print(json.dumps(report, indent=2))
    Path(workdir, "bench.json").write_text(json.dumps(report, indent=2))
    return report


def _taught(m: dict) -> str:
    if "qa_exact_match_delta" not in m:
        return "—"
    return (f"{m['qa_exact_match_delta']:+.3f} [{m['qa_exact_match_delta_low']:+.3f}, "
            f"{m['qa_exact_match_delta_high']:+.3f}], {m['qa_fixed']:.0f}/{m['qa_broken']:.0f}")


def write_seeds_section(reports: list[dict]) -> None:
    """Per seed: pretraining FLOPs, wall time, and per model stage exact match, paired change against the
    stage before (95 % interval, fixed/broken) and multiple choice; then the mean and spread of the changes."""
    import statistics

    name = Path(reports[0]["config"]).stem
    rows, deltas = [], {s: [] for s in MODEL_STAGES}
    above = {s: True for s in MODEL_STAGES}
    for r in reports:
        st = r["stages"]
        flops = st.get("pretrain", {}).get("metrics", {}).get("train_flops", float("nan"))
        for s in MODEL_STAGES:
            m = st.get(s, {}).get("metrics", {})
            if "qa_exact_match_delta" in m:
                deltas[s].append(m["qa_exact_match_delta"])
                above[s] &= m["qa_exact_match_delta_low"] > 0
            rows.append(f"| {r['seed']} | {s} | {m.get('qa_exact_match', float('nan')):.3f} | {_taught(m)} "
                        f"| {m.get('qa_mc_accuracy', float('nan')):.3f} | {flops:.3g} | {r['wall_seconds']:.0f} |")
    summary = []
    for s, ds in deltas.items():
        if ds:
            sd = statistics.stdev(ds) if len(ds) > 1 else 0.0
            summary.append(f"- {s}: paired change {statistics.mean(ds):+.3f} ± {sd:.3f} (mean ± sd over "
                           f"{len(ds)} seeds); every interval above zero: {'yes' if above[s] else '**no**'}")
    body = f"""<!-- bench/tiny_recipe.py:{name}:seeds -->
## `{reports[0]['config']}` over {len(reports)} seeds — `bench/tiny_recipe.py --seeds {' '.join(str(r['seed']) for r in reports)}`

{reports[0]['date']}, {reports[0]['machine']}. Each seed is a fresh workdir; the seed is pretrain's, sft's and
rlhf's (the data is the same). Held-out exact match on {reports[0]['stages'].get('rlhf', {}).get('metrics', {}).get('qa_items', 0):.0f}
questions; "taught" is the paired change against the stage before, [95 % interval], answers fixed/broken.

| seed | after | exact match | taught | MC | pretrain FLOPs | run s |
|---|---|---:|---|---:|---:|---:|
{chr(10).join(rows)}

{chr(10).join(summary)}
<!-- /bench/tiny_recipe.py:{name}:seeds -->"""
    put_section(f"bench/tiny_recipe.py:{name}:seeds", body)


def write_section(r: dict) -> None:
    name = Path(r["config"]).stem
    st = r["stages"]
    secs = ", ".join(f"{k} {v['seconds']:.0f}" for k, v in st.items())
    rows = []
    for s in MODEL_STAGES:
        if s not in st:
            continue
        m = st[s]["metrics"]
        rows.append(f"| {s} | {m.get('qa_mc_accuracy', float('nan')):.3f} (chance {m.get('qa_mc_chance', 0):.2f}) "
                    f"| {m.get('qa_exact_match', float('nan')):.3f} | {m.get('qa_exact_match_seen', float('nan')):.3f} "
                    f"| {m.get('qa_mc_accuracy_seen', float('nan')):.3f} |")
    m_pre = st.get("pretrain", {}).get("metrics", {})
    probe = ""
    if any("qa_exact_match" in st[s]["metrics"] for s in MODEL_STAGES if s in st):
        probe = f"""Held-out probe ({m_pre.get('qa_items', 0):.0f} questions about entities no SFT/preference/RL row mentions;
{m_pre.get('qa_items_seen', 0):.0f} about facts a training row states, `seen`):

| after | MC accuracy, held-out | exact match, held-out | exact match, seen | MC accuracy, seen |
|---|---|---|---|---|
{chr(10).join(rows)}
"""
    over = " ".join(f"--set {o}" for o in r["overrides"])
    body = f"""<!-- bench/tiny_recipe.py:{name} -->
## whole pipeline on `{r['config']}` — `bench/tiny_recipe.py --config {r['config']}{' ' + over if over else ''}`

{r.get('date') or time.strftime('%Y-%m-%d')}, {r.get('machine') or machine()}. Fresh workdir, offline, through the CLI (Prefect + MLflow):
**{r['wall_seconds']:.0f} s** end to end (stage seconds: {secs}).
Pretrain: {m_pre.get('steps', 0):.0f} steps, val loss {m_pre.get('val_loss', float('nan')):.3f},
{m_pre.get('tokens_per_s', 0):,.0f} tokens/s.

{probe}
GGUF files against the rlhf checkpoint (quantize stage, same run, same machine):

{r.get('quant_table.md', '')}
lm-eval, every checkpoint and every GGUF file (evaluate stage; "in training": items dedup found in
training documents):

{r.get('eval_table.md', '')}
{_gate_line(r.get('gate'))}

Targets: MC after pretrain ≥ 2× chance; held-out exact match pretrain < sft, sft ≥ 0.30, rlhf ≥ sft;
F16 top-1 ≥ 99 %, Δppl Q8_0 ≤ +0.5 %, Q4_K_M ≤ +5 %, llama.cpp ≥ 5× HF tokens/s; ≤ 600 s on 2 cores.
<!-- /bench/tiny_recipe.py:{name} -->"""
    put_section(f"bench/tiny_recipe.py:{name}", body)


def _gate_line(g: dict | None) -> str:
    if not g:
        return "Gate: no registry (tracking off)."
    checks = ", ".join(f"{c['task']} {c['new']:.4g} vs {c['reference']:.4g}" for c in g["checks"])
    verdict = f"passed, `{g['alias']}` → v{g['version']}" if g["passed"] else "failed: " + "; ".join(g["failures"])
    return f"Gate ({g['checks'][0]['tolerance']:.0%} tolerance; served quant vs its source: {checks}): {verdict}."


if __name__ == "__main__":
    main()
