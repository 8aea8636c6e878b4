"""Packed training windows from the tokenizer stage's memmap shards.

Windows of seq_len+1 tokens tile the shard and are visited in a seeded permutation per epoch, so
the data position is just "how many windows were consumed": exact resume needs no loader state.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


class TokenWindows:
    """Windows of seq_len+1 tokens tiling the whole file, or each of `ranges` ([start, end) token offsets:
    the new data of a continued run, or its replay of old data)."""

    def __init__(self, path: Path, dtype: str, seq_len: int, seed: int, shuffle: bool = True,
                 ranges: list[tuple[int, int]] | None = None):
        self.data = np.memmap(path, dtype=np.dtype(dtype), mode="r") if Path(path).stat().st_size else np.zeros(0)
        self.seq_len = seq_len
        self.seed = seed
        self.shuffle = shuffle
        ranges = [(0, len(self.data))] if ranges is None else ranges
        self.starts = np.concatenate([np.arange(a, a + ((b - a - 1) // seq_len) * seq_len, seq_len, dtype=np.int64)
                                      for a, b in ranges if b - a > seq_len] or [np.zeros(0, dtype=np.int64)])
        self.n = len(self.starts)
        if self.n < 1:
            raise ValueError(f"{path} holds {sum(b - a for a, b in ranges)} tokens in the ranges read, fewer than "
                             f"pretrain.seq_len+1={seq_len + 1}")
        self._perm_epoch = -1
        self._perm = None

    def _order(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            self._perm = (np.random.default_rng([self.seed, epoch]).permutation(self.n) if self.shuffle
                          else np.arange(self.n))
            self._perm_epoch = epoch
        return self._perm

    def window(self, g: int) -> np.ndarray:
        """Window g (a global index across epochs)."""
        epoch, j = divmod(g, self.n)
        start = int(self.starts[self._order(epoch)[j]])
        return self.data[start : start + self.seq_len + 1]

    def batch(self, first: int, count: int) -> np.ndarray:
        """Windows first..first+count-1 as an int64 array [count, seq_len+1]."""
        out = np.empty((count, self.seq_len + 1), dtype=np.int64)
        for k in range(count):
            out[k] = self.window(first + k)
        return out


class ReplayMix:
    """A continued run's stream: new-data windows, with a `replay` share of windows from the data the parent
    already trained on, spread evenly (window g is a replay window when floor((g+1)*replay) > floor(g*replay)).
    Like TokenWindows, position is just a window count, so resuming needs no loader state."""

    def __init__(self, new: TokenWindows, old: TokenWindows | None, replay: float):
        self.new, self.old = new, old
        self.replay = replay if old is not None else 0.0
        self.seq_len = new.seq_len

    def batch(self, first: int, count: int) -> np.ndarray:
        out = np.empty((count, self.seq_len + 1), dtype=np.int64)
        for k in range(count):
            g = first + k
            before = math.floor(g * self.replay)  # replay windows among 0..g-1
            if math.floor((g + 1) * self.replay) > before:
                out[k] = self.old.window(before)
            else:
                out[k] = self.new.window(g - before)
        return out


CONTINUATION = "continue.json"  # in a training work dir: the parent weights and the token ranges to train on


def write_continuation(work_dir: Path, init_from: Path, new: list, old: list, replay: float) -> None:
    (Path(work_dir) / CONTINUATION).write_text(json.dumps(
        {"init_from": str(init_from), "new": new, "old": old, "replay": replay}), encoding="utf-8")


def read_continuation(work_dir: Path) -> dict | None:
    """What a continued run trains on (None: a run from scratch over the whole train split). A file rather
    than arguments, so every torchrun process reads the same plan."""
    path = Path(work_dir) / CONTINUATION
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def read_index(data_dir: Path) -> dict:
    path = Path(data_dir) / "index.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: pretrain reads the tokenizer stage's output directory")
    return json.loads(path.read_text(encoding="utf-8"))


def unigram_entropy_nats(path: Path, dtype: str, vocab_size: int) -> float:
    """Entropy of the token distribution: the loss of a model that ignores context."""
    tokens = np.memmap(path, dtype=np.dtype(dtype), mode="r")
    counts = np.zeros(vocab_size, dtype=np.float64)
    for start in range(0, len(tokens), 1 << 26):  # chunks: bincount copies to intp (8 bytes a token)
        chunk = np.bincount(tokens[start : start + (1 << 26)], minlength=vocab_size)
        counts[: len(chunk)] += chunk
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
