"""`python -m zerollm run|plan|status ...`: the pipeline without Prefect (bare GPU boxes, cron, debugging).

Same runner, keys and outputs as `zerollm run`; only the executor differs (stages run inline).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from zerollm.config import ConfigError, load_config
from zerollm.diskfull import DiskFull
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import plan, run_pipeline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zerollm")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("status", help="the latest run's stages as JSON (as `zerollm status --json`)")
    st.add_argument("--workdir", default="work")
    for name, what in (("run", "run the pipeline (no Prefect)"), ("plan", "what run would do, and why; runs nothing")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--config")
        p.add_argument("--workdir", default="work")
        p.add_argument("--set", dest="overrides", action="append", default=[])
        p.add_argument("--until")
        p.add_argument("--force", action="append", default=[])
        if name == "plan":
            p.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.cmd == "status":
        from zerollm.records import status

        rec = status(args.workdir)
        if rec is None:
            print(f"no runs in {args.workdir} yet", file=sys.stderr)
            return 1
        print(json.dumps(rec, indent=2, ensure_ascii=False))
        return 0
    if args.cmd == "run" and argv is None:  # a real process, not a call from Python
        from zerollm import lifeline

        lifeline.adopt()  # every process this run starts dies with it, even after a kill -9
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        cfg = load_config(PipelineConfig, args.config, args.overrides)
        if args.cmd == "plan":
            plans = plan(cfg, args.workdir, args.until, tuple(args.force))
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.cmd == "plan":
        if args.json:
            print(json.dumps({"stages": [p.to_json() for p in plans]}, indent=2, ensure_ascii=False))
        for p in [] if args.json else plans:
            print(f"{p.stage:<10} {p.key}  {p.action:<6} {'; '.join(p.reasons)}")
        return 0
    try:
        outcomes = run_pipeline(cfg, args.workdir, args.until, tuple(args.force))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except DiskFull as exc:  # the traceback says nothing more than this line
        print(f"pipeline failed: {exc}", file=sys.stderr)
        return 1
    for o in outcomes:
        print(f"{o.stage:<10} {'cached' if o.cache_hit else 'ran':<6} {o.seconds:8.1f}s  {o.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
