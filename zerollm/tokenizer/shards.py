"""Train/val split by doc-id hash, and parallel tokenization into flat token shards.

Output per split: `<split>.bin` (all documents' ids back to back, each followed by EOS, readable with
np.memmap) and `<split>.docs.npy` (int64 start offset of each document). Order follows the input, and
the result does not depend on the number of workers.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

SPLITS = ("train", "val")
CHUNK_CHARS = 1 << 18  # text per worker task: amortizes pickling, keeps 2 workers evenly loaded
_MAX_IN_FLIGHT_PER_WORKER = 2  # bounded queue: never read the corpus faster than it is tokenized

_sp = None  # the sentencepiece processor of a worker process (set by _init_worker)


def doc_hash(doc_id: str) -> int:
    """64-bit hash of a doc id: the split depends on the id only, not on order or corpus size."""
    return int.from_bytes(hashlib.sha1(doc_id.encode("utf-8")).digest()[:8], "big")


def val_cutoff(hashes: Iterable[int], val_fraction: float, min_val_docs: int) -> int:
    """Largest doc hash that goes to val: `val_fraction` of the hash space, widened to the
    `min_val_docs` smallest hashes for small corpora, never more than half of the documents."""
    import numpy as np

    h = np.sort(np.fromiter(hashes, dtype=np.uint64))
    n = len(h)
    if n == 0:
        raise ValueError("tokenizer: empty corpus: the dedup shards hold no documents")
    if n < 2:
        raise ValueError(f"tokenizer: the corpus has {n} document(s); at least 2 are needed "
                         f"(one to train on, one to validate on)")
    cutoff = max(int(val_fraction * 2**64) - 1, int(h[min(min_val_docs, n // 2) - 1]))
    return min(cutoff, int(h[n // 2 - 1]))


def token_dtype(vocab_size: int):
    import numpy as np

    return np.uint16 if vocab_size <= 1 << 16 else np.uint32


def _init_worker(model_file: str) -> None:
    global _sp
    import sentencepiece as spm

    _sp = spm.SentencePieceProcessor(model_file=model_file)


def _encode_chunk(task: tuple[list[bool], list[str], int, str], sp=None) -> dict:
    """Tokenize one chunk; returns per split the flat ids (EOS after each doc), doc lengths and bytes."""
    import numpy as np

    is_val, texts, eos_id, dtype = task
    ids = (sp if sp is not None else _sp).encode(texts, num_threads=1)
    out = {}
    for split, want in (("train", False), ("val", True)):
        sel = [i for i, v in enumerate(is_val) if v == want]
        flat: list[int] = []
        lengths = np.empty(len(sel), dtype=np.int64)
        for j, i in enumerate(sel):
            flat.extend(ids[i])
            flat.append(eos_id)
            lengths[j] = len(ids[i]) + 1
        out[split] = (np.asarray(flat, dtype=dtype), lengths,
                      sum(len(texts[i].encode("utf-8")) for i in sel))
    return out


def _chunks(docs: Iterable[tuple[bool, str]], eos_id: int, dtype: str) -> Iterator[tuple]:
    is_val: list[bool] = []
    texts: list[str] = []
    size = 0
    for v, text in docs:
        is_val.append(v)
        texts.append(text)
        size += len(text)
        if size >= CHUNK_CHARS:
            yield is_val, texts, eos_id, dtype
            is_val, texts, size = [], [], 0
    if texts:
        yield is_val, texts, eos_id, dtype


def _results(tasks: Iterator[tuple], model_file: Path, num_workers: int) -> Iterator[dict]:
    """Results in task order, at most 2 tasks per worker in flight so memory stays flat.

    Workers are spawned: no fork of a parent that may hold threads (Prefect, MLflow), and it works
    from any thread. A ProcessPoolExecutor, not mp.Pool: when workers die (e.g. an unguarded script
    re-imported as the spawn main module) it raises instead of respawning them forever.
    """
    if num_workers <= 1:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(model_file))
        yield from (_encode_chunk(task, sp) for task in tasks)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(num_workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                             initargs=(str(model_file),)) as pool:
        pending: deque = deque()
        try:
            for task in tasks:
                pending.append(pool.submit(_encode_chunk, task))
                if len(pending) >= num_workers * _MAX_IN_FLIGHT_PER_WORKER:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool as exc:
            raise RuntimeError(
                "tokenizer: tokenization worker processes died (out of memory, or a script without "
                "`if __name__ == '__main__':` that spawned workers re-imported); guard the script, or set "
                "tokenizer.num_workers=0") from exc
        finally:
            for fut in pending:
                fut.cancel()


def tokenize_to_shards(docs: Iterable[tuple[bool, str]], model_file: Path, out_dir: Path, vocab_size: int,
                       eos_id: int, num_workers: int = 2) -> dict:
    """Tokenize `(is_val, text)` pairs into train/val shards in `out_dir`.

    Returns per split {"tokens", "docs", "bytes"} plus "token_counts" (occurrences of each id in train,
    for vocabulary usage) and "dtype".
    """
    import numpy as np

    dtype = np.dtype(token_dtype(vocab_size))
    stats = {s: {"tokens": 0, "docs": 0, "bytes": 0} for s in SPLITS}
    starts: dict[str, list] = {s: [] for s in SPLITS}
    counts = np.zeros(vocab_size, dtype=np.int64)
    files = {s: open(out_dir / f"{s}.bin", "wb") for s in SPLITS}
    try:
        for result in _results(_chunks(docs, eos_id, dtype.name), model_file, num_workers):
            for split in SPLITS:
                tokens, lengths, nbytes = result[split]
                st = stats[split]
                starts[split].append(st["tokens"] + np.cumsum(lengths) - lengths)  # exclusive prefix sum
                tokens.tofile(files[split])
                st["tokens"] += int(len(tokens))
                st["docs"] += int(len(lengths))
                st["bytes"] += int(nbytes)
                if split == "train" and len(tokens):
                    counts += np.bincount(tokens, minlength=vocab_size)[:vocab_size]
    finally:
        for f in files.values():
            f.close()
    for split in SPLITS:
        offsets = np.concatenate(starts[split]) if starts[split] else np.zeros(0, dtype=np.int64)
        np.save(out_dir / f"{split}.docs.npy", offsets.astype(np.int64))
    return {**stats, "token_counts": counts, "dtype": dtype.name}


def unit_ranges(bins: Path, shards: list[str], counts: list[dict], dtype: str) -> list[dict]:
    """Per dedup shard (sha256, in the order they were tokenized, `counts`: its docs and bytes per split):
    the ranges of its docs and tokens in each split's files under `bins`."""
    import numpy as np

    starts = {s: np.load(bins / f"{s}.docs.npy") for s in SPLITS}
    total = {s: (bins / f"{s}.bin").stat().st_size // np.dtype(dtype).itemsize for s in SPLITS}
    pos = {s: 0 for s in SPLITS}
    units = []
    for sha, c in zip(shards, counts):
        unit = {"shard": sha}
        for s in SPLITS:
            d0, d1 = pos[s], pos[s] + c[s]["docs"]
            at = lambda d: int(starts[s][d]) if d < len(starts[s]) else total[s]  # noqa: E731
            unit[s] = {"docs": [d0, d1], "tokens": [at(d0), at(d1)], "bytes": c[s]["bytes"]}
            pos[s] = d1
        units.append(unit)
    return units


def assemble(parts: list[tuple[Path, dict]], out_dir: Path, dtype: str, vocab_size: int) -> tuple[list[dict], dict]:
    """Each split's files in `out_dir` as the concatenation of `parts` (a folder of token files, and one shard's
    ranges in it), in order: a continued lineage copies its parent's tokens and encodes only new text.
    Returns the shards' ranges in the new files and the stats tokenize_to_shards returns."""
    import numpy as np

    units = [{"shard": u["shard"]} for _, u in parts]
    stats = {}
    for s in SPLITS:
        tok_pos = doc_pos = nbytes = 0
        starts = []
        with open(out_dir / f"{s}.bin", "wb") as f:
            for (src, u), new in zip(parts, units):
                (t0, t1), (d0, d1) = u[s]["tokens"], u[s]["docs"]
                if t1 > t0:
                    np.memmap(src / f"{s}.bin", dtype=dtype, mode="r")[t0:t1].tofile(f)
                    starts.append(np.load(src / f"{s}.docs.npy", mmap_mode="r")[d0:d1] - t0 + tok_pos)
                new[s] = {"docs": [doc_pos, doc_pos + d1 - d0], "tokens": [tok_pos, tok_pos + t1 - t0],
                          "bytes": u[s]["bytes"]}
                tok_pos, doc_pos, nbytes = tok_pos + t1 - t0, doc_pos + d1 - d0, nbytes + u[s]["bytes"]
        np.save(out_dir / f"{s}.docs.npy", np.concatenate(starts).astype(np.int64) if starts
                else np.zeros(0, dtype=np.int64))
        stats[s] = {"tokens": tok_pos, "docs": doc_pos, "bytes": nbytes}
    counts = np.zeros(vocab_size, dtype=np.int64)
    if stats["train"]["tokens"]:
        train = np.memmap(out_dir / "train.bin", dtype=dtype, mode="r")
        for start in range(0, len(train), 1 << 26):
            counts += np.bincount(train[start : start + (1 << 26)], minlength=vocab_size)[:vocab_size]
    return units, {**stats, "token_counts": counts, "dtype": dtype}
