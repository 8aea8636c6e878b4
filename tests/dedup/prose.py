"""Real English prose for dedup tests: paragraphs of Python's own reference docs (shipped with
CPython in pydoc_data), made mutually distinct, with planted exact and near copies."""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path

from zerollm.dedup.text import words


def _shingles(text: str, n: int = 5) -> set:
    w = words(text)
    return {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}


def distinct_paragraphs(min_words: int = 40, max_jaccard: float = 0.3) -> list[str]:
    return list(_distinct(min_words, max_jaccard))


@functools.lru_cache(maxsize=None)  # tens of seconds of pairwise Jaccard: once per test session
def _distinct(min_words: int, max_jaccard: float) -> tuple[str, ...]:
    from pydoc_data.topics import topics

    kept, sigs = [], []
    for key in sorted(topics):
        for p in re.split(r"\n\s*\n", topics[key]):
            p = " ".join(p.split())
            if len(p.split()) < min_words:
                continue
            s = _shingles(p)
            if all(len(s & t) / len(s | t) < max_jaccard for t in sigs):
                kept.append(p)
                sigs.append(s)
    return tuple(kept)


def plant(paragraphs: list[str], n_copies: int, max_edit: float, seed: int = 0):
    """Docs with ids, and (copy_id, original_id) pairs; near copies get 1..max_edit word edits."""
    rng = random.Random(seed)
    docs = [{"id": f"p{i}", "text": t} for i, t in enumerate(paragraphs)]
    pairs = []
    for j in range(n_copies):
        src = docs[rng.randrange(len(paragraphs))]
        w = src["text"].split()
        if j % 2:  # near copy: substitutions, deletions and insertions
            for _ in range(max(1, int(len(w) * rng.uniform(0.005, max_edit)))):
                i = rng.randrange(len(w))
                op = rng.choice("sdi")
                if op == "s":
                    w[i] = rng.choice(["lorem", "quux", "zebra", "violet"])
                elif op == "d" and len(w) > 5:
                    del w[i]
                else:
                    w.insert(i, rng.choice(["very", "also", "indeed"]))
        docs.append({"id": f"copy{j}", "text": " ".join(w)})
        pairs.append((f"copy{j}", src["id"]))
    rng.shuffle(docs)
    return docs, pairs


def write_jsonl(path: Path, docs: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
