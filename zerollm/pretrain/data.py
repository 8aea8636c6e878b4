"""Packed training windows from the tokenizer stage's memmap shards.

Windows of seq_len+1 tokens tile the shard and are visited in a seeded permutation per epoch, so
the data position is just "how many windows were consumed": exact resume needs no loader state.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class TokenWindows:
    def __init__(self, path: Path, dtype: str, seq_len: int, seed: int, shuffle: bool = True):
        self.data = np.memmap(path, dtype=np.dtype(dtype), mode="r")
        self.seq_len = seq_len
        self.seed = seed
        self.shuffle = shuffle
        self.n = (len(self.data) - 1) // seq_len
        if self.n < 1:
            raise ValueError(f"{path} holds {len(self.data)} tokens, fewer than pretrain.seq_len+1={seq_len + 1}")
        self._perm_epoch = -1
        self._perm = None

    def _order(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            self._perm = (np.random.default_rng([self.seed, epoch]).permutation(self.n) if self.shuffle
                          else np.arange(self.n))
            self._perm_epoch = epoch
        return self._perm

    def batch(self, first: int, count: int) -> np.ndarray:
        """Windows first..first+count-1 (global indices across epochs) as an int64 array [count, seq_len+1]."""
        out = np.empty((count, self.seq_len + 1), dtype=np.int64)
        for k in range(count):
            epoch, j = divmod(first + k, self.n)
            start = int(self._order(epoch)[j]) * self.seq_len
            out[k] = self.data[start : start + self.seq_len + 1]
        return out


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
