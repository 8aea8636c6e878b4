"""Incremental data stages on real prose (CPython's reference docs): a run after new files arrive reads
only those files, keeps exactly what a fresh run over all files keeps, removes copies of earlier data,
and drops the documents of a removed file."""

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import tiny_config
from tests.dedup.prose import distinct_paragraphs, write_jsonl
from zerollm.compare import compare
from zerollm.datachanges import describe
from zerollm.io.shards import read_docs
from zerollm.runner import run_pipeline


@pytest.fixture(scope="module")
def paragraphs():
    return distinct_paragraphs()


def _near(text: str) -> str:
    w = text.split()
    w[len(w) // 2] = "zebra"
    return " ".join(w)


def _batches(paragraphs, exact="a3", near="a7"):
    """Three drops: b repeats two of a's documents (one exactly, one with a word changed), c is all new."""
    a = [{"id": f"a{i}", "text": t} for i, t in enumerate(paragraphs[:60])]
    b = [{"id": f"b{i}", "text": t} for i, t in enumerate(paragraphs[60:90])]
    text = {d["id"]: d["text"] for d in a}
    b += [{"id": "b-exact", "text": text[exact]}, {"id": "b-near", "text": _near(text[near])}]
    c = [{"id": f"c{i}", "text": t} for i, t in enumerate(paragraphs[90:120])]
    return {"a": a, "b": b, "c": c}


def _config(folder):
    return tiny_config(f"collect.sources=[{{type: jsonl, path: '{folder}/*.jsonl', id_key: id}}]",
                       "collect.docs_per_shard=20", "filter.preset=docs", "filter.workers=2",
                       "dedup.workers=2")


def _kept(work, outcomes):
    out = {o.stage: o for o in outcomes}
    return [d["id"] for d in read_docs(work / out["dedup"].dir / "shards")], out


def _drop(folder, batches, *names):
    for n in names:
        write_jsonl(folder / f"{n}.jsonl", batches[n])


def test_new_files_are_the_only_work_and_the_result_equals_a_fresh_run(tmp_path, paragraphs):
    batches = _batches(paragraphs)
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir()
    _drop(inbox, batches, "a")
    first, out = _kept(work, run_pipeline(_config(inbox), work, until="dedup"))
    assert len(first) == out["dedup"].metrics["docs_in"] > 20  # what passed the filter, no copies among them
    batches = _batches(paragraphs, exact=first[1], near=first[2])  # copies of documents that were kept

    _drop(inbox, batches, "b", "c")
    ids, out = _kept(work, run_pipeline(_config(inbox), work, until="dedup"))
    m = {s: o.metrics for s, o in out.items()}
    assert not any(o.cache_hit for o in out.values())  # every key changed ...
    assert m["collect"]["files_read"] == 2 and m["collect"]["files"] == 3  # ... but a.jsonl was not read again
    assert m["filter"]["shards_filtered"] == m["filter"]["shards"] - 3  # a's 3 shards were not filtered again
    assert m["dedup"]["shards_signed"] == m["dedup"]["shards"] - 3
    assert m["dedup"]["shards_new"] == m["dedup"]["shards_signed"]
    assert m["dedup"]["docs_new"] == m["dedup"]["docs_in"] - len(first) > 30

    # copies of the earlier drop are removed, naming the document they copy
    removed = {r["id"]: r for r in map(json.loads, open(work / out["dedup"].dir / "removed_ids.jsonl"))}
    assert removed["b-exact"] == {"id": "b-exact", "reason": "exact", "of": first[1]}
    assert removed["b-near"]["reason"] == "minhash" and removed["b-near"]["of"] == first[2]
    assert m["dedup"]["history_removed"] == 2
    assert ids[:len(first)] == first and len(ids) == m["dedup"]["docs_in"] - 2

    # what changed in the data, in `zerollm compare` and in the run's report
    d = compare(work, "latest~1", "latest")["data"]
    assert [Path(f).name for f in d["files_added"]] == ["b.jsonl", "c.jsonl"] and not d["files_removed"]
    assert d["docs_added"] == 62 and d["history_removed"] == 2
    line = describe(d)
    assert "files added 2 (b.jsonl, c.jsonl)" in line and "copies of earlier data 2" in line
    report = (work / json.loads((work / "runs" / "latest.json").read_text())["report"]).with_suffix(".md")
    assert "What changed in the data" in report.read_text() and line.removeprefix("data: ") in report.read_text()

    fresh = tmp_path / "fresh"
    fresh_ids, fout = _kept(fresh, run_pipeline(_config(inbox), fresh, until="dedup"))
    assert fresh_ids == ids  # same ids, same order
    assert fout["dedup"].metrics["history_removed"] == 0 and fout["dedup"].metrics["minhash_removed"] >= 1

    # nothing new: every stage is a cache hit
    again = run_pipeline(_config(inbox), work, until="dedup")
    assert all(o.cache_hit for o in again)


def test_a_removed_file_drops_its_documents_and_frees_its_copies(tmp_path, paragraphs):
    batches = _batches(paragraphs, exact="a2", near="a3")  # both pass the filter
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir()
    _drop(inbox, batches, "a", "b")
    ids, _ = _kept(work, run_pipeline(_config(inbox), work, until="dedup"))
    assert "b-exact" not in ids and "b-near" not in ids and "a2" in ids and "a3" in ids

    (inbox / "a.jsonl").unlink()
    ids, out = _kept(work, run_pipeline(_config(inbox), work, until="dedup"))
    assert not [i for i in ids if i.startswith("a")]
    assert "b-exact" in ids and "b-near" in ids  # nothing earlier to copy any more
    assert out["collect"].metrics["files_read"] == 0 and out["dedup"].metrics["shards_signed"] == 0
    assert out["dedup"].metrics["shards_gone"] == 3

    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    assert _kept(fresh, run_pipeline(_config(inbox), fresh, until="dedup"))[0] == ids
