"""A local source whose glob matches files none of which its reader can read fails in plan(), before any
stage runs, in one line naming the key, the pattern and why; some readable files are no preflight problem."""

import gzip
import time

import pytest

from zerollm.collect import stage as collect
from zerollm.collect.config import CollectConfig
from zerollm.collect.sources import SNIFF_BYTES, sniff
from zerollm.config import ConfigError, load_config
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import plan


def _problems(ctx, **kw) -> list[str]:
    return collect.check(CollectConfig(**kw), None, ctx)


@pytest.mark.parametrize("name, content, kind, why", [
    ("x.bin", b"\x00\x01\x02binary\xff" * 10, "text", "x.bin: binary"),
    ("x.txt", b"", "text", "x.txt: empty"),
    ("x.txt", b"  \n\n ", "text", "x.txt: empty"),
    ("x.txt", b"caf\xe9 au lait", "text", "x.txt: not UTF-8"),
    ("x.html", b"\x00<html>", "html", "x.html: binary"),
    ("x.jsonl.gz", b"this is not gzip", "jsonl", "x.jsonl.gz: unreadable: "),
    ("x.jsonl", b"\n\n\n", "jsonl", "x.jsonl: empty"),
    ("x.jsonl", b'{"text": "a\x00"}\n{"text": "caf\xe9"}\n', "jsonl", "x.jsonl: binary"),
    ("x.parquet", b'{"text": "hello"}', "parquet", "x.parquet: not Parquet"),
    ("x.warc", b"<html>not a warc</html>", "warc", "x.warc: not WARC"),
])
def test_a_glob_whose_only_file_is_unreadable(tmp_path, ctx, name, content, kind, why):
    (tmp_path / name).write_bytes(content)
    pattern = str(tmp_path / "x.*")
    msgs = _problems(ctx, sources=[{"type": kind, "path": pattern}])
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith(f"collect.sources[0].path: {pattern!r} matches 1 file(s), none readable as {kind} "
                              f"({why}")
    assert "; allowed: " in msgs[0]


def test_a_truncated_gzip_is_unreadable(tmp_path, ctx):
    # (a stream cut past the first 64 KiB it decompresses to is the reader's to reject: only a prefix is read)
    data = gzip.compress("".join(f'{{"text": "line {i}"}}\n' for i in range(100)).encode())
    (tmp_path / "a.jsonl.gz").write_bytes(data[: len(data) // 2])
    msgs = _problems(ctx, sources=[{"type": "jsonl", "path": str(tmp_path / "*.jsonl.gz")}])
    assert len(msgs) == 1 and "a.jsonl.gz: unreadable: " in msgs[0], msgs


def test_a_dataset_source_is_checked_too(tmp_path, ctx):
    (tmp_path / "chats.jsonl").write_bytes(b"")
    msgs = _problems(ctx, sft=[{"type": "jsonl", "path": str(tmp_path / "chats.jsonl")}])
    assert len(msgs) == 1 and msgs[0].startswith("collect.sft[0].path: ") and "(chats.jsonl: empty)" in msgs[0]


def test_one_readable_file_is_enough(tmp_path, ctx):
    (tmp_path / "a.bin").write_bytes(b"\x00" * 100)
    (tmp_path / "b.txt").write_text("Some text.")
    (tmp_path / "c.txt").write_bytes(b"")
    assert _problems(ctx, sources=[{"type": "text", "path": str(tmp_path / "*")}]) == []
    with gzip.open(tmp_path / "d.jsonl.gz", "wt") as f:
        f.write('{"text": "hi"}\n')
    (tmp_path / "e.jsonl").write_bytes(b'\x00\n{"text": "one bad line, one good"}\n')
    assert _problems(ctx, sources=[{"type": "jsonl", "path": str(tmp_path / "*.jsonl*")}]) == []
    (tmp_path / "f.parquet").write_bytes(b"PAR1" + b"\x00" * 20 + b"PAR1")
    (tmp_path / "g.warc.gz").write_bytes(gzip.compress(b"WARC/1.0\r\n"))
    assert _problems(ctx, sources=[{"type": "parquet", "path": str(tmp_path / "*.parquet")},
                                   {"type": "warc", "path": str(tmp_path / "*.warc.gz")}]) == []


def test_only_a_prefix_is_read(tmp_path):
    big = tmp_path / "big.txt"
    # a multi-byte char cut by the sniff boundary is fine; invalid UTF-8 past it is the reader's business
    big.write_bytes(b"a" * (SNIFF_BYTES - 1) + "é".encode() + b"\xff" * 10)
    assert sniff(big, "text") is None
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b" " * SNIFF_BYTES + b"text after a blank prefix")
    assert sniff(blank, "text") is None
    assert sniff(tmp_path / "gone.txt", "text").startswith("unreadable: ")


def test_plan_fails_before_anything_runs(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "x.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB of binary
    cfg = load_config(PipelineConfig, None, ["tracking.enabled=false",
                                             f"collect.sources=[{{type: text, path: '{corpus}/*'}}]"])
    t0 = time.time()
    with pytest.raises(ConfigError) as err:
        plan(cfg, tmp_path / "w")
    assert time.time() - t0 < 5
    assert not (tmp_path / "w" / "stages").exists(), "nothing ran"
    msg = str(err.value)
    assert msg.startswith("config error: collect.sources[0].path: ") and "none readable as text (x.bin: binary)" in msg
    assert "allowed: UTF-8 text files" in msg and len(msg.splitlines()) == 1
