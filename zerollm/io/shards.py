"""JSONL.gz shards: the one on-disk format for documents between data stages.

gzip headers carry no timestamp (mtime=0), so the same docs give byte-identical shards and the
manifest hashes stay stable across reruns.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Iterable, Iterator


class ShardWriter:
    """Writes docs into `<dir>/<prefix>-00000.jsonl.gz`, starting a new shard every `docs_per_shard`."""

    def __init__(self, out_dir: Path, prefix: str = "shard", docs_per_shard: int = 1000):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.docs_per_shard = docs_per_shard
        self.count = 0
        self.paths: list[Path] = []
        self._fh = None

    def write(self, doc: dict) -> None:
        if self._fh is None or self.count % self.docs_per_shard == 0:
            self._open_next()
        self._fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        self.count += 1

    def _open_next(self) -> None:
        self.close()
        path = self.out_dir / f"{self.prefix}-{len(self.paths):05d}.jsonl.gz"
        raw = open(path, "wb")
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
        self._fh = io.TextIOWrapper(gz, encoding="utf-8")
        self._raw = raw
        self.paths.append(path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._raw.close()
            self._fh = None

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def shard_paths(directory: Path) -> list[Path]:
    d = Path(directory)
    return sorted(list(d.glob("*.jsonl.gz")) + list(d.glob("*.jsonl")))


def read_docs(directory_or_files: Path | Iterable[Path]) -> Iterator[dict]:
    paths = shard_paths(directory_or_files) if isinstance(directory_or_files, (str, Path)) else directory_or_files
    for p in paths:
        opener = gzip.open if str(p).endswith(".gz") else open
        with opener(p, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Written to a sibling and renamed: a kill mid-write never leaves a truncated file to be read
    (the chat stages keep state in scratch this way)."""
    n = 0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
