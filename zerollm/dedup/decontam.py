"""Decontamination: a datasketch MinHashLSH index of evaluation items, queried with doc windows.

Only windows that start where a doc shares a 3-gram with some eval item are hashed, so clean docs
cost one set lookup per word instead of a MinHash per window.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from zerollm.dedup.text import words
from zerollm.io.shards import read_jsonl

NGRAM = 3


def item_text(row: dict) -> str:
    """The text of an eval/SFT item that must not leak into training data."""
    if "question" in row:
        return f"{row['question']} {row.get('answer', '')}"
    if "messages" in row:
        return " ".join(m["content"] for m in row["messages"])
    if "prompt" in row and isinstance(row["prompt"], str):
        return f"{row['prompt']} {row.get('completion', '')}"
    return row.get("text", "")


def shingles(text: str) -> list[str]:
    w = words(text)
    return [" ".join(w[i : i + NGRAM]) for i in range(max(len(w) - NGRAM + 1, 0))]


def _h(s: str) -> bytes:
    return hashlib.sha1(s.encode("utf-8")).digest()


class DecontamFilter(BaseFilter):
    name = "🧪 Decontaminate (datasketch LSH)"

    def __init__(self, item_files: list[str], threshold: float, num_perm: int, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.item_files = item_files
        self.threshold = threshold
        self.num_perm = num_perm
        self._index = None

    def _build(self):
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        grams: set[str] = set()
        lengths = []
        for path in self.item_files:
            for row in read_jsonl(Path(path)):
                sh = shingles(item_text(row))
                if len(sh) < 2:
                    continue
                m = MinHash(num_perm=self.num_perm)
                m.update_batch([s.encode("utf-8") for s in sh])
                lsh.insert(str(row.get("id", len(lengths))), m, check_duplication=False)
                grams.update(sh)
                lengths.append(len(sh))
        window = sorted(lengths)[len(lengths) // 2] if lengths else 0
        self._index = (lsh, grams, window)

    def filter(self, doc: Document):
        if self._index is None:
            self._build()
        lsh, grams, window = self._index
        if not window:
            return True
        from datasketch import MinHash

        sh = shingles(doc.text)
        prev_hit = False
        for i, s in enumerate(sh):
            hit = s in grams
            if hit and not prev_hit:
                win = sh[i : i + window]
                m = MinHash(num_perm=self.num_perm)
                m.update_batch([x.encode("utf-8") for x in win])
                matches = lsh.query(m)
                if matches:
                    doc.metadata["contaminated_with"] = sorted(matches)[:5]
                    return False, "contaminated"
            prev_hit = hit
        return True
