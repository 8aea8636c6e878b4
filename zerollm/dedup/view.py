"""How the run report shows dedup: exact and near duplicates, and documents holding an evaluation item."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from zerollm import drops

REASONS = {"exact": ("exact duplicates", "dedup.exact"), "minhash": ("near duplicates", "dedup.threshold"),
           "decontam": ("contains an evaluation item", "dedup.decontaminate.threshold")}


def losses(metrics: dict, stage_dir: Path | None, config: dict) -> drops.StageLoss | None:
    reasons = [drops.Reason(label, int(metrics.get(f"{k}_removed", 0)), key) for k, (label, key) in REASONS.items()
               if metrics.get(f"{k}_removed")]
    return drops.loss("dedup", metrics, reasons)


def examples(stage, limit: int) -> list[tuple[str, object, str]]:
    out = [("exact duplicate", f"{r.get('id')} (of {r.get('of')})", r.get("text", ""))
           for r in stage.jsonl("removed/exact.jsonl", limit)]
    for sub, label in (("minhash", "near duplicate"), ("contaminated", "contains an evaluation item")):
        for path in sorted((stage.path(f"removed/{sub}") or Path("/nonexistent")).glob("*.jsonl.gz"))[:1]:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line, _ in zip(f, range(limit)):
                    r = json.loads(line)
                    out.append((label, r.get("id"), r.get("text", "")))
    return out
