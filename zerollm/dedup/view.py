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
    """Up to `limit` removed documents per reason (removed/<shard>.jsonl.gz, each doc's metadata.dedup says why)."""
    labels = {"exact": "exact duplicate", "minhash": "near duplicate", "contaminated": "contains an evaluation item"}
    picked: dict[str, list] = {k: [] for k in labels}
    for path in sorted((stage.path("removed") or Path("/nonexistent")).glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                why = r.get("metadata", {}).get("dedup", {})
                rows = picked.get(why.get("reason"))
                if rows is not None and len(rows) < limit:
                    of = why.get("of") or why.get("matches")
                    rows.append((labels[why["reason"]], f"{r.get('id')} (of {of})" if of else r.get("id"),
                                 r.get("text", "")))
        if all(len(rows) >= limit for rows in picked.values()):
            break
    return [row for rows in picked.values() for row in rows]
