"""Readers for every source type. Each yields `Doc` or `Reject`; nothing here raises on bad data.
Dataset sources (sft, eval, ...) share the record readers and yield raw `Record`s for chat.py.

Each unit a reader looks at (a line, a file, a record, a paragraph) becomes exactly one Doc or one
Reject, which is what lets the collect stage check `in = out + rejected`.
"""

from __future__ import annotations

import codecs
import glob
import json
import logging
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from zerollm.io.hashing import sha256_file
from zerollm.collect.config import (
    HfRows, HfSource, HtmlSource, JsonlRows, JsonlSource, ParquetRows, ParquetSource, TextSource, UrlRows, UrlSource,
    WarcSource, source_name,
)

log = logging.getLogger("zerollm.collect")


@dataclass
class Doc:
    id: str
    text: str
    meta: dict[str, Any]


@dataclass
class Reject:
    reason: str
    where: str
    sample: str = ""


@dataclass
class Record:
    """One raw row of a structured file or dataset, before it becomes a Doc or a dataset row."""
    value: Any  # what the line/record parsed to: usually a dict, anything for malformed input
    where: str  # file:line or dataset[n], for rejects
    id: str  # derived id, used when the row carries none
    file: str | None = None


def _sample(data: bytes | str, n: int = 200) -> str:
    if isinstance(data, bytes):
        return data[:n].decode("utf-8", errors="replace")
    return data[:n]


def expand(pattern: str) -> list[Path]:
    paths = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
    return [p for p in paths if p.is_file()]


def read_bytes(path: Path) -> bytes | Reject:
    try:
        return path.read_bytes()
    except OSError as exc:  # permissions, a file removed between glob and read
        return Reject("unreadable_file", str(path), str(exc)[:200])


def decode(raw: bytes, where: str) -> str | Reject:
    if not raw.strip():
        return Reject("empty", where)
    if b"\x00" in raw[:8192]:
        return Reject("binary", where, _sample(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Reject("invalid_utf8", where, f"byte {exc.start}: {_sample(raw)}")


SNIFF_BYTES = 64 << 10
# what a local source's files must be, by source type (the `allowed:` of a preflight problem)
READABLE_AS = {"text": "UTF-8 text files", "html": "UTF-8 HTML files",
               "jsonl": "UTF-8 JSON-lines files (.jsonl, or gzip-compressed .jsonl.gz)", "parquet": "Parquet files",
               "warc": "WARC files (.warc, or gzip-compressed .warc.gz)"}
_WHY = {"empty": "empty", "binary": "binary", "invalid_utf8": "not UTF-8"}


def sniff(path: Path, kind: str) -> str | None:
    """Why `path` can't be read as a `kind` source ("binary", "empty", ...), judged from its first 64 KiB by
    the readers' own rules; None if it can, or might (only a prefix is looked at). For the preflight check:
    a file this passes is not rejected whole by its reader for being unreadable, empty, binary or not UTF-8."""
    import gzip

    try:
        with (gzip.open if kind == "jsonl" and path.suffix == ".gz" else open)(path, "rb") as f:
            head = f.read(SNIFF_BYTES + 1)  # gzip: only this much is decompressed
    except (OSError, EOFError, zlib.error) as exc:  # permissions, a bad or truncated gzip stream
        return f"unreadable: {getattr(exc, 'strerror', None) or exc}"
    whole, head = len(head) <= SNIFF_BYTES, head[:SNIFF_BYTES]
    if not head:
        return "empty"
    if kind == "parquet":
        return None if head.startswith(b"PAR1") else "not Parquet (no PAR1 magic)"
    if kind == "warc":
        return None if head.startswith((b"\x1f\x8b", b"WARC/")) else "not WARC (no WARC/ header, not gzip)"
    # text and html are decoded whole, jsonl line by line: a file is readable if one such unit is
    units = head.split(b"\n") if kind == "jsonl" else [head]
    why = []
    for i, unit in enumerate(units):
        if not whole and i == len(units) - 1:  # cut at the sniff boundary: drop a split multi-byte char
            dec = codecs.getincrementaldecoder("utf-8")()
            try:
                dec.decode(unit, final=False)
                unit = unit[:len(unit) - len(dec.getstate()[0])]
            except UnicodeDecodeError:
                pass  # decode() below says so
        got = decode(unit, str(path))
        if isinstance(got, str):
            return None
        if got.reason != "empty" or kind != "jsonl":  # blank lines are skipped, not rejected
            why.append(_WHY.get(got.reason, got.reason))
    if not whole and (not why or why == ["empty"]):
        return None  # only blank so far: the rest of the file may hold the text
    return why[0] if why else "empty"


# ---- local files -------------------------------------------------------------------------------

def read_text(src: TextSource, files: list[Path]) -> Iterator[Doc | Reject]:
    name = source_name(src)
    for path in files:
        raw = read_bytes(path)
        text = raw if isinstance(raw, Reject) else decode(raw, str(path))
        if isinstance(text, Reject):
            yield text
            continue
        if src.split == "file":
            yield Doc(f"{name}:{path.as_posix()}", text, {"file": str(path)})
            continue
        for i, block in enumerate(_paragraphs(text)):
            yield Doc(f"{name}:{path.as_posix()}:{i}", block, {"file": str(path)})


def _paragraphs(text: str) -> list[str]:
    out, cur = [], []
    for line in text.splitlines():
        if line.strip():
            cur.append(line)
        elif cur:
            out.append("\n".join(cur))
            cur = []
    if cur:
        out.append("\n".join(cur))
    return out


def _from_record(rec: Any, src, where: str, fallback_id: str) -> Doc | Reject:
    if not isinstance(rec, dict):
        return Reject("not_an_object", where, _sample(str(rec)))
    text = rec.get(src.text_key)
    if text is None:
        return Reject("missing_text", where, _sample(json.dumps(rec, ensure_ascii=False, default=str)))
    if not isinstance(text, str):
        return Reject("bad_text_type", where, _sample(str(text)))
    doc_id = fallback_id
    if src.id_key:
        raw_id = rec.get(src.id_key)
        if raw_id is None or raw_id == "":
            return Reject("missing_id", where, _sample(text))
        doc_id = str(raw_id)
    return Doc(doc_id, text, {})


def jsonl_records(path: Path, name: str) -> Iterator[Record | Reject]:
    """Every non-blank line of a .jsonl or .jsonl.gz file as a Record, or a Reject saying why not."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            lines = f.readlines()
    except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip, unreadable file
        yield Reject("unreadable_file", str(path), str(exc))
        return
    if not any(line.strip() for line in lines):
        yield Reject("empty", str(path))
        return
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}:{n}"
        line = decode(raw, where)
        if isinstance(line, Reject):
            yield line
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Reject("bad_json", where, f"{exc.msg}: {_sample(line)}")
            continue
        yield Record(rec, where, f"{name}:{path.as_posix()}:{n}", str(path))


def read_jsonl(src: JsonlSource, files: list[Path]) -> Iterator[Doc | Reject]:
    name = source_name(src)
    for path in files:
        for rec in jsonl_records(path, name):
            yield rec if isinstance(rec, Reject) else _doc(rec, src)


def _doc(rec: Record, src) -> Doc | Reject:
    doc = _from_record(rec.value, src, rec.where, rec.id)
    if isinstance(doc, Doc) and rec.file:
        doc.meta["file"] = rec.file
    return doc


def open_parquet(path: Path):
    """A pyarrow ParquetFile, or a Reject for a file that is not one."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        return Reject("unreadable_file", str(path), str(exc)[:200])


def parquet_records(pf, path: Path, name: str) -> Iterator[Record | Reject]:
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            for rec in batch.to_pylist():
                n += 1
                yield Record(rec, f"{path}:{n}", f"{name}:{path.as_posix()}:{n}", str(path))
    except Exception as exc:  # a corrupt page: the rows read so far are kept, the rest is one reject
        yield Reject("unreadable_file", f"{path}:{n}", str(exc)[:200])


def read_parquet(src: ParquetSource, files: list[Path]) -> Iterator[Doc | Reject]:
    name = source_name(src)
    for path in files:
        pf = open_parquet(path)
        if isinstance(pf, Reject):
            yield pf
            continue
        if src.text_key not in pf.schema_arrow.names:
            yield Reject("missing_text", str(path), f"columns: {pf.schema_arrow.names}")
            continue
        for rec in parquet_records(pf, path, name):
            yield rec if isinstance(rec, Reject) else _doc(rec, src)


def html_to_text(html: str) -> str | None:
    import trafilatura

    # fast=True: no fallback extractors, which would return bare navigation text for pages without content
    return trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True, fast=True)


def read_html(src: HtmlSource, files: list[Path]) -> Iterator[Doc | Reject]:
    name = source_name(src)
    for path in files:
        raw = read_bytes(path)
        html = raw if isinstance(raw, Reject) else decode(raw, str(path))
        if isinstance(html, Reject):
            yield html
            continue
        text = html_to_text(html)
        if not text or not text.strip():
            yield Reject("no_main_text", str(path), _sample(html))
            continue
        yield Doc(f"{name}:{path.as_posix()}", text, {"file": str(path)})


def read_warc(src: WarcSource, files: list[Path]) -> Iterator[Doc | Reject]:
    from datatrove.pipeline.readers import WarcReader

    for path in files:
        reader = WarcReader(str(path.parent), glob_pattern=path.name)
        try:
            for d in reader.read_file(path.name):
                text = html_to_text(d.text)
                where = f"{path}:{d.id}"
                if not text or not text.strip():
                    yield Reject("no_main_text", where, _sample(d.text))
                    continue
                yield Doc(str(d.id), text, {"file": str(path), "url": d.metadata.get("url")})
        except Exception as exc:  # warcio raises on truncated/corrupt archives
            yield Reject("unreadable_file", str(path), str(exc)[:200])


# ---- Hugging Face datasets ---------------------------------------------------------------------

def hf_records(src) -> Iterator[Record]:
    """Rows of a Hub dataset or local dataset folder (HfSource or HfRows), at most `src.limit`."""
    import datasets

    name = source_name(src)
    ds = datasets.load_dataset(src.dataset, src.config, split=src.split, streaming=src.streaming,
                               revision=src.revision)
    for n, rec in enumerate(ds):
        if src.limit is not None and n >= src.limit:
            break
        yield Record(rec, f"{src.dataset}[{n}]", f"{name}:{n}")


def read_hf(src: HfSource) -> Iterator[Doc | Reject]:
    for rec in hf_records(src):
        yield _from_record(rec.value, src, rec.where, rec.id)


# ---- URL downloads -----------------------------------------------------------------------------

def download(src: UrlSource | UrlRows, cache_dir: Path) -> Path:
    """Fetch once into a content-addressed cache; the sha256 must match or the stage fails."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    suffix = "".join(Path(src.url.split("?")[0]).suffixes[-2:]) or ".bin"
    target = cache_dir / f"{src.sha256.lower()}{suffix}"
    if target.is_file() and sha256_file(target) == src.sha256.lower():
        log.info("download cache hit: %s", target)
        return target
    last_err: Exception | None = None
    for attempt in range(src.retries + 1):
        part = target.with_suffix(target.suffix + ".part")
        try:
            with urllib.request.urlopen(src.url, timeout=src.timeout_s) as resp, open(part, "wb") as out:
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
            digest = sha256_file(part)
            if digest != src.sha256.lower():
                part.unlink(missing_ok=True)
                raise ChecksumError(f"sha256 mismatch for {src.url}: expected {src.sha256.lower()}, got {digest}")
            part.replace(target)
            return target
        except ChecksumError:
            raise
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            last_err = exc
            part.unlink(missing_ok=True)
            if attempt < src.retries:
                wait = min(2 ** attempt, 30)
                log.warning("download of %s failed (%s); retry %d/%d in %ss", src.url, exc, attempt + 1,
                            src.retries, wait)
                time.sleep(wait)
    raise DownloadError(f"could not download {src.url} after {src.retries + 1} attempts: {last_err}")


class DownloadError(RuntimeError):
    pass


class ChecksumError(DownloadError):
    pass


_LOCAL_READERS = {"text": read_text, "jsonl": read_jsonl, "parquet": read_parquet, "html": read_html,
                  "warc": read_warc}


def read_url(src: UrlSource, cache_dir: Path) -> Iterator[Doc | Reject]:
    path = download(src, cache_dir)
    name = source_name(src)
    local_cls = {"text": TextSource, "jsonl": JsonlSource, "parquet": ParquetSource, "html": HtmlSource,
                 "warc": WarcSource}[src.format]
    fields = {"name": name, "path": str(path)}
    if src.format in ("jsonl", "parquet"):
        fields.update(text_key=src.text_key, id_key=src.id_key)
    yield from _LOCAL_READERS[src.format](local_cls(**fields), [path])


def read_local(src, files: list[Path]) -> Iterator[Doc | Reject]:
    return _LOCAL_READERS[src.type](src, files)


# ---- chat/task dataset rows --------------------------------------------------------------------

def read_rows(src: JsonlRows | ParquetRows | HfRows | UrlRows, files: list[Path], cache_dir: Path
              ) -> Iterator[Record | Reject]:
    """Raw rows of a dataset source (`files`: the expanded glob of a local one). Each Record is one
    row in; each Reject one unit in that never became a row (a bad line, an unreadable file)."""
    name = source_name(src)
    if isinstance(src, HfRows):
        yield from hf_records(src)
        return
    kind = src.type
    if isinstance(src, UrlRows):
        files, kind = [download(src, cache_dir)], src.file_format
    for path in files:
        if kind == "jsonl":
            yield from jsonl_records(path, name)
            continue
        pf = open_parquet(path)
        if isinstance(pf, Reject):
            yield pf
        else:
            yield from parquet_records(pf, path, name)
