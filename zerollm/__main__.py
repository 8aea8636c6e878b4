"""`python -m zerollm run ...`: the pipeline without Prefect (bare GPU boxes, cron, debugging)."""

from __future__ import annotations

import argparse
import logging
import sys

from zerollm.config import ConfigError, load_config
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import run_pipeline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zerollm")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the pipeline (no Prefect)")
    r.add_argument("--config")
    r.add_argument("--workdir", default="work")
    r.add_argument("--set", dest="overrides", action="append", default=[])
    r.add_argument("--until")
    r.add_argument("--force", action="append", default=[])
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        cfg = load_config(PipelineConfig, args.config, args.overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    for o in run_pipeline(cfg, args.workdir, args.until, tuple(args.force)):
        print(f"{o.stage:<10} {'cached' if o.cache_hit else 'ran':<6} {o.seconds:8.1f}s  {o.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
