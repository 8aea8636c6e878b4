"""`python -m zerollm.pretrain --data TOKENIZER_DIR --work DIR [--config F] [--set k=v]`

The training entry point without Prefect or MLflow: what torchrun launches per GPU, and what a bare
GPU box runs. Metrics go to <work>/metrics.jsonl; rerunning resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from zerollm.config import ConfigError, load_config
from zerollm.pretrain.config import PretrainConfig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zerollm.pretrain")
    ap.add_argument("--data", required=True, help="the tokenizer stage's output directory")
    ap.add_argument("--work", required=True, help="checkpoints, metrics.jsonl, samples.txt")
    ap.add_argument("--config", help="YAML with the pretrain fields")
    ap.add_argument("--config-json", help="the pretrain config as JSON (what the stage passes to torchrun)")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--summary", help="write the summary metrics here (JSON)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        if args.config_json:
            cfg = PretrainConfig.model_validate_json(args.config_json)
        else:
            cfg = load_config(PretrainConfig, args.config, args.overrides)
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    from zerollm.pretrain.train import train

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    def on_metrics(m: dict, step: int) -> None:  # the trainer itself keeps <work>/metrics.jsonl
        logging.getLogger("zerollm.pretrain").info("step %d %s", step,
                                                    " ".join(f"{k}={v:.4g}" for k, v in m.items()))

    summary = train(cfg, Path(args.data), work, on_metrics)
    if args.summary and summary.get("world_size", 1) >= 1:
        import os

        if int(os.environ.get("RANK", "0")) == 0:
            Path(args.summary).write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
