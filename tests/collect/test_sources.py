"""collect on local files, HF datasets and URLs, with malformed input counted, never crashing."""

import gzip
import hashlib
import http.server
import json
import threading
from functools import partial

import pytest

from zerollm.collect import stage as collect
from zerollm.collect.config import CollectConfig
from zerollm.io.shards import read_docs, read_jsonl


def _run(tmp_path, ctx, sources, **kw):
    cfg = CollectConfig(sources=sources, **kw)
    out = tmp_path / "out"
    out.mkdir()
    res = collect.run(cfg, {}, out, ctx)
    return res, list(read_docs(out / "datasets" / "pretrain")), read_jsonl(out / "rejects.jsonl")


def test_jsonl_keeps_ids_and_counts_malformed(tmp_path, ctx):
    d = tmp_path / "in"
    d.mkdir()
    good = [{"id": f"doc{i}", "text": f"Document number {i} has some text."} for i in range(5)]
    lines = [json.dumps(r).encode() for r in good]
    lines += [b"{not json", json.dumps({"id": "x1", "body": "no text key"}).encode(),
              json.dumps({"id": "x2", "text": 42}).encode(), b'{"id": "bad", "text": "caf\xe9"}',
              json.dumps({"text": "no id"}).encode(), json.dumps({"id": "big", "text": "a" * 5000}).encode(),
              json.dumps({"id": "doc0", "text": "duplicate id"}).encode()]
    (d / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with gzip.open(d / "b.jsonl.gz", "wt") as f:
        f.write(json.dumps({"id": "gz1", "text": "From a gzip file."}) + "\n")
    (d / "empty.jsonl").write_bytes(b"")
    res, docs, rejects = _run(tmp_path, ctx, [{"type": "jsonl", "path": str(d / "*.jsonl*"), "id_key": "id"}],
                              max_doc_bytes=1000)
    assert [x["id"] for x in docs] == [f"doc{i}" for i in range(5)] + ["gz1"]
    assert all(x["metadata"]["source"] == "jsonl" for x in docs)
    m = res.metrics
    assert m["docs_out"] == 6 and m["rejected"] == 8 and m["docs_in"] == 14
    for reason in ("bad_json", "missing_text", "bad_text_type", "invalid_utf8", "missing_id", "too_large",
                   "duplicate_id", "empty"):
        assert m[f"rejected_{reason}"] == 1, reason
    assert {r["reason"] for r in rejects} >= {"bad_json", "invalid_utf8", "too_large"}


def test_text_files_binary_and_paragraphs(tmp_path, ctx):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("First paragraph here.\nStill first.\n\nSecond paragraph.\n")
    (d / "b.md").write_text("# Title\n\nBody text.")
    (d / "c.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (d / "d.txt").write_bytes(b"\xff\xfe bad utf8")
    (d / "e.txt").write_text("   \n")
    res, docs, _ = _run(tmp_path, ctx, [{"type": "text", "path": str(d / "*"), "split": "paragraph"}])
    assert [x["text"] for x in docs] == ["First paragraph here.\nStill first.", "Second paragraph.", "# Title",
                                         "Body text."]
    assert res.metrics["rejected_binary"] == 1 and res.metrics["rejected_invalid_utf8"] == 1
    assert res.metrics["rejected_empty"] == 1


def test_ten_megabyte_document_is_rejected_not_crashing(tmp_path, ctx):
    f = tmp_path / "big.txt"
    f.write_text("word " * (2 * 1024 * 1024))
    g = tmp_path / "ok.txt"
    g.write_text("A fine small document.")
    res, docs, rejects = _run(tmp_path, ctx, [{"type": "text", "path": str(tmp_path / "*.txt")}])
    assert res.metrics["rejected_too_large"] == 1 and len(docs) == 1
    assert len(rejects[0]["sample"]) < 1000


def test_parquet_and_html(tmp_path, ctx):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"uid": ["p1", "p2"], "content": ["Parquet row one.", "Parquet row two."]}),
                   tmp_path / "t.parquet")
    (tmp_path / "page.html").write_text(
        "<html><body><nav><a href='/'>Home</a> | <a href='/about'>About</a></nav>"
        "<article><h1>The fox</h1><p>" + "The red fox lives in the old forest near the river. " * 8 +
        "</p><p>" + "Every morning it walks to the hill and watches the valley below. " * 6 + "</p></article>"
        "<footer>Copyright 2026 | Privacy | Terms</footer></body></html>")
    (tmp_path / "nav.html").write_text("<html><body><nav>Home | About</nav></body></html>")
    res, docs, _ = _run(tmp_path, ctx, [
        {"type": "parquet", "path": str(tmp_path / "*.parquet"), "text_key": "content", "id_key": "uid"},
        {"type": "html", "path": str(tmp_path / "*.html")},
    ])
    assert [d["id"] for d in docs[:2]] == ["p1", "p2"]
    page = docs[2]["text"]
    assert "red fox" in page and "Home" not in page and "Privacy" not in page
    assert res.metrics["rejected_no_main_text"] == 1


def test_warc_through_datatrove_reader(tmp_path, ctx):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    import io

    path = tmp_path / "crawl.warc.gz"
    html = ("<html><body><p>" + "Lanterns glow over the quiet harbour every evening in spring. " * 10 +
            "</p></body></html>").encode()
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.0")
        w.write_record(w.create_warc_record("http://example.test/a", "response", payload=io.BytesIO(html),
                                            http_headers=headers))
    res, docs, _ = _run(tmp_path, ctx, [{"type": "warc", "path": str(path)}])
    assert len(docs) == 1 and "Lanterns glow" in docs[0]["text"]
    assert docs[0]["metadata"]["url"] == "http://example.test/a"


def test_hf_source_reads_a_local_dataset_with_the_same_loader(tmp_path, ctx):
    d = tmp_path / "hfds"
    d.mkdir()
    with open(d / "train.jsonl", "w") as f:
        for i in range(4):
            f.write(json.dumps({"rid": f"r{i}", "text": f"Hub-style record {i}."}) + "\n")
    res, docs, _ = _run(tmp_path, ctx, [{"type": "hf", "dataset": str(d), "split": "train", "id_key": "rid",
                                         "limit": 3}])
    assert [x["id"] for x in docs] == ["r0", "r1", "r2"]


@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_url_download_checksum_and_cache(tmp_path, ctx, http_dir):
    root, base = http_dir
    body = (json.dumps({"id": "u1", "text": "Downloaded text."}) + "\n").encode()
    (root / "data.jsonl").write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    src = {"type": "url", "url": f"{base}/data.jsonl", "sha256": sha, "id_key": "id", "retries": 0}
    res, docs, _ = _run(tmp_path, ctx, [src])
    assert docs[0]["id"] == "u1"
    cached = list((tmp_path / "cache" / "downloads").iterdir())
    assert [p.name for p in cached] == [f"{sha}.jsonl"]
    (root / "data.jsonl").unlink()  # served from the cache now
    out2 = tmp_path / "out2"
    out2.mkdir()
    collect.run(CollectConfig(sources=[src]), {}, out2, ctx)
    assert len(list(read_docs(out2 / "datasets" / "pretrain"))) == 1


def test_url_bad_checksum_fails_clearly(tmp_path, ctx, http_dir):
    root, base = http_dir
    (root / "d.jsonl").write_text('{"text": "x"}\n')
    src = {"type": "url", "url": f"{base}/d.jsonl", "sha256": "0" * 64, "retries": 0}
    from zerollm.collect.sources import ChecksumError

    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        _run(tmp_path, ctx, [src])


def test_no_matching_files_names_the_key(tmp_path, ctx):
    with pytest.raises(collect.CollectError, match=r"collect.sources\[0\].path: no files match"):
        _run(tmp_path, ctx, [{"type": "text", "path": str(tmp_path / "nothing*.txt")}])


def test_same_file_names_in_two_folders_and_a_corrupt_gzip(tmp_path, ctx):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "part-0.jsonl").write_text(json.dumps({"text": f"Doc from folder {sub}."}) + "\n")
    (tmp_path / "a" / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"text": "x"}\n' * 100)[:40] + b"garbage")
    res, docs, rejects = _run(tmp_path, ctx, [{"type": "jsonl", "path": str(tmp_path / "*" / "*.jsonl*")}])
    assert sorted(d["text"] for d in docs) == ["Doc from folder a.", "Doc from folder b."]
    assert len({d["id"] for d in docs}) == 2
    assert res.metrics["rejected_unreadable_file"] == 1 and res.metrics["docs_in"] == 3
