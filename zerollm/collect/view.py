"""How the run report shows collect: what it rejected, and which key tunes each reason."""

from __future__ import annotations

from pathlib import Path

from zerollm import drops

KEYS = {"empty": "collect.min_doc_chars", "too_large": "collect.max_doc_bytes",
        "missing_text": "collect.sources[].text_key", "duplicate_id": "collect.sources[].id_key"}


def losses(metrics: dict, stage_dir: Path | None, config: dict) -> drops.StageLoss | None:
    reasons = [drops.Reason(k[9:], int(v), KEYS.get(k[9:], "collect.sources"))
               for k, v in metrics.items() if k.startswith("rejected_") and v]
    return drops.loss("collect", metrics, reasons)


def examples(stage, limit: int) -> list[tuple[str, object, str]]:
    """(reason, where, text) of a few rejected inputs."""
    return [(r.get("reason", "?"), r.get("where"), r.get("sample") or "") for r in stage.jsonl("rejects.jsonl", 500)]
