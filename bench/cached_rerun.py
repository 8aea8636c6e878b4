"""Benchmark a fully cached rerun: `zerollm run` (Prefect + MLflow, as `make run`) on a workdir where
every stage is already built, timed as a whole process; also `zerollm plan` on the same workdir.

    .venv/bin/python bench/cached_rerun.py [--config configs/tiny.yaml] [--workdir work] [--runs 5]

The workdir must hold a finished run of the same config (e.g. after `make run`); the first timed run
is checked to be all cache hits. Results go to docs/benchmarks.md (its own section).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.report import machine, put_section  # noqa: E402


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/tiny.yaml")
    ap.add_argument("--workdir", default="work")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--set", action="append", default=[], dest="overrides", help="as for zerollm run")
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("zerollm"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    sets = [a for o in args.overrides for a in ("--set", o)]
    run = [exe, "run", "--config", args.config, "--workdir", args.workdir, *sets]
    plan = [exe, "plan", "--config", args.config, "--workdir", args.workdir, "--json", *sets]
    runs = [timed(run, env) for _ in range(args.runs)]
    status = json.loads(subprocess.run([exe, "status", "--workdir", args.workdir, "--json"], cwd=REPO, check=True,
                                       capture_output=True, text=True, env=env).stdout)
    if not all(s["cache_hit"] for s in status["stages"]):
        raise SystemExit(f"not a cached rerun: {[s['stage'] for s in status['stages'] if not s['cache_hit']]} ran")
    plans = [timed(plan, env) for _ in range(args.runs)]
    r = {"runs": runs, "plans": plans, "stages": len(status["stages"]), "date": time.strftime("%Y-%m-%d"),
         "machine": machine(), "config": args.config, "overrides": args.overrides}
    print(json.dumps(r, indent=2))
    put_section("cached-rerun", f"""<!-- cached-rerun -->
## fully cached rerun — `bench/cached_rerun.py --config {args.config}`

{r['date']}, {r['machine']}. A workdir where all {r['stages']} stages are built; each command timed as a
whole process (imports, the run's Prefect server, MLflow, the report), {args.runs} runs{_sets(args.overrides)}:

| command | min s | median s | max s |
|---|---|---|---|
| `zerollm run` (all cache hits) | {min(runs):.1f} | {statistics.median(runs):.1f} | {max(runs):.1f} |
| `zerollm plan --json` | {min(plans):.1f} | {statistics.median(plans):.1f} | {max(plans):.1f} |
<!-- /cached-rerun -->""")


def _sets(overrides: list[str]) -> str:
    return f" (built with {', '.join(f'`{o}`' for o in overrides)}: shorter training, the same stages and files)" \
        if overrides else ""


if __name__ == "__main__":
    main()
