"""How many items of each task the dedup stage found in the training data.

The dedup stage removes a contaminated document at its first matching eval item; here every item
is checked against every removed document with the same containment rule (share of the item's
3-grams present in the document), so a quiz page that leaks five questions counts five items.
"""

from __future__ import annotations

import json
from pathlib import Path

from zerollm.dedup.decontam import item_text, shingles
from zerollm.io.shards import read_docs


def removed_docs(dedup_dir: Path) -> list[set[str]]:
    """The shingles of every document dedup removed as holding an eval item (removed/<shard>.jsonl.gz, each
    doc's metadata.dedup.reason says why it went)."""
    folder = Path(dedup_dir) / "removed"
    if not folder.is_dir():
        return []
    return [set(shingles(doc["text"])) for doc in read_docs(folder)
            if doc.get("metadata", {}).get("dedup", {}).get("reason") == "contaminated"]


def threshold(dedup_dir: Path) -> float:
    manifest = json.loads((Path(dedup_dir) / "MANIFEST.json").read_text(encoding="utf-8"))
    return float(manifest["config"]["decontaminate"]["threshold"])


def found_in_training(items: list[dict], docs: list[set[str]], min_share: float) -> int:
    count = 0
    for it in items:
        sh = set(shingles(item_text(it)))
        if sh and any(len(sh & d) / len(sh) >= min_share for d in docs):
            count += 1
    return count
