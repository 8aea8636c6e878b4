"""Decontamination: a datasketch MinHashLSH index of evaluation items, queried with doc windows,
each match confirmed by exact containment.

LSH finds candidate items for a window cheaply; containment (the share of an item's 3-grams found in
the doc) decides. Jaccard alone is a poor judge here: a doc that restates a fact in other words
("the Maple Leaf Tea House is in Millby") shares most words with the question about it without
containing the question. Only runs of consecutive 3-grams shared with items are hashed, so clean
docs cost about one set lookup per word.
"""

from __future__ import annotations

import os
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from zerollm.dedup.text import words
from zerollm.io.shards import read_jsonl

NGRAM = 3
LSH_THRESHOLD = 0.5  # recall-oriented candidate search; containment makes the decision
_BUILT: dict[tuple, tuple] = {}  # (item files as they are, num_perm) -> (template, index): one build per process


def item_text(row: dict) -> str:
    """The text of an eval item that must not leak into training data. For QA items that is the
    question: a leaked quiz page states the question verbatim but puts its answer anywhere nearby."""
    if "question" in row:
        return row["question"]
    if "messages" in row:
        return " ".join(m["content"] for m in row["messages"])
    if "prompt" in row and isinstance(row["prompt"], str):
        return f"{row['prompt']} {row.get('completion', '')}"
    return row.get("text", "")


def shingles(text: str) -> list[str]:
    w = words(text)
    return [" ".join(w[i : i + NGRAM]) for i in range(max(len(w) - NGRAM + 1, 0))]


class DecontamFilter(BaseFilter):
    name = "🧪 Decontaminate (datasketch LSH)"

    def __init__(self, item_files: list[str], threshold: float, num_perm: int, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.item_files = item_files
        self.threshold = threshold
        self.num_perm = num_perm
        self._index = None

    def _build(self):
        """One LSH index per item-length band, each queried with windows of its own band's size: a
        window's Jaccard with an item can't exceed the ratio of their sizes. Built once per process: a
        worker that runs many per-shard tasks reuses it."""
        from datasketch import MinHash

        key = (tuple((f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in self.item_files), self.num_perm)
        if key not in _BUILT:
            self._template = MinHash(num_perm=self.num_perm)
            _BUILT[key] = (self._template, self._index_items())
        self._template, self._index = _BUILT[key]

    def _index_items(self):
        from datasketch import MinHashLSH

        items: dict[str, frozenset] = {}
        bands: dict[int, list[str]] = {}
        for path in self.item_files:
            for n, row in enumerate(read_jsonl(Path(path))):
                sh = frozenset(shingles(item_text(row)))
                if len(sh) < 2:
                    continue
                key = f"{Path(path).stem}:{row.get('id', n)}"
                items[key] = sh
                bands.setdefault(max(len(sh) - 1, 1).bit_length(), []).append(key)
        indexes = []
        for band in sorted(bands):
            keys = bands[band]
            lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=self.num_perm)
            for key in keys:
                lsh.insert(key, self._minhash(items[key]), check_duplication=False)
            sizes = sorted(len(items[k]) for k in keys)
            # a leaked item leaves a run of consecutive item 3-grams about as long as the item;
            # runs shorter than half the band's shortest item are everyday phrase overlap
            indexes.append((lsh, sizes[len(sizes) // 2], max(2, sizes[0] // 2)))
        grams = frozenset().union(*items.values()) if items else frozenset()
        return indexes, items, grams

    def _minhash(self, shingle_set):
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, permutations=self._template.permutations, scheme=self._template.scheme)
        m.update_batch([s.encode("utf-8") for s in shingle_set])
        return m

    def filter(self, doc: Document):
        if self._index is None:
            self._build()
        indexes, items, grams = self._index
        if not indexes:
            return True
        sh = shingles(doc.text)
        runs = []  # (start, length) of consecutive shingles that occur in some item
        i = 0
        while i < len(sh):
            if sh[i] in grams:
                j = i
                while j < len(sh) and sh[j] in grams:
                    j += 1
                runs.append((i, j - i))
                i = j
            else:
                i += 1
        doc_set = None
        for lsh, window, min_run in indexes:
            stride = max(window // 4, 1)
            for start, length in runs:
                if length < min_run:
                    continue
                for i in range(start, start + max(length - window, 0) + 1, stride):
                    for key in lsh.query(self._minhash(set(sh[i : i + window]))):
                        doc_set = doc_set if doc_set is not None else set(sh)
                        item = items[key]
                        if len(item & doc_set) / len(item) >= self.threshold:
                            doc.metadata["contaminated_with"] = key
                            return False, "contaminated"
        return True
