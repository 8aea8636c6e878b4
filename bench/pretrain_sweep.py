"""Pretraining variants side by side: FLOPs, validation loss and the held-out probe, without Prefect.

    python bench/pretrain_sweep.py --data TOKENIZER_DIR --collect COLLECT_DIR --config configs/tiny.yaml \
        --out results.jsonl  base:  half:max_steps=425  muon:optimizer=muon,max_steps=425

Each variant is the config's `pretrain` section with `key=value` overrides (dotted keys reach nested
fields, as `--set` does). It trains from scratch in its own work dir, then runs the same probe the pretrain stage runs,
so a recipe can be chosen on a GPU box (no Prefect, MLflow or TRL there) before the CPU pipeline runs it.
One JSON line per variant goes to --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zerollm.config import apply_overrides  # noqa: E402
from zerollm.pretrain import checkpoint  # noqa: E402
from zerollm.pretrain.config import PretrainConfig  # noqa: E402


def variant(spec: str, base: dict) -> tuple[str, PretrainConfig]:
    name, _, rest = spec.partition(":")
    fields = apply_overrides(json.loads(json.dumps(base)), [x for x in rest.split(",") if x], PretrainConfig)
    return name, PretrainConfig.model_validate(fields)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--collect", required=True)
    ap.add_argument("--config", default="configs/tiny.yaml")
    ap.add_argument("--work", default="/tmp/pretrain_sweep")
    ap.add_argument("--out", required=True)
    ap.add_argument("variants", nargs="+")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from zerollm.pretrain.train import train
    from zerollm.probe import probe_checkpoint

    base = yaml.safe_load(Path(args.config).read_text())["pretrain"]
    log = logging.getLogger("sweep")
    for spec in args.variants:
        name, cfg = variant(spec, base)
        work = Path(args.work) / name
        shutil.rmtree(work, ignore_errors=True)
        t0 = time.time()
        summary = train(cfg, Path(args.data), work)
        seconds = time.time() - t0
        model_dir = work / "model"
        checkpoint.export_model(checkpoint.latest(work), model_dir)
        probe = probe_checkpoint(model_dir, Path(args.collect), cfg.probe, "pretrain", work, log,
                                 cuda=summary.get("device", "").startswith("cuda"))
        rows = [json.loads(x) for x in (work / "metrics.jsonl").read_text().splitlines() if x.strip()]
        val = [r["val_loss"] for r in rows if "val_loss" in r]
        row = {"variant": spec, "flops": summary["train_flops"],
               "seconds": round(seconds, 1), "val_loss": val[-1] if val else None,
               "qa_exact_match": probe.get("qa_exact_match"), "qa_mc_accuracy": probe.get("qa_mc_accuracy"),
               "params": summary["params"]}
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
