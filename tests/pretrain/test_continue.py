"""pretrain.init: continue — a scheduled run after new data arrives starts from the last pretrained model,
keeps its tokenizer (encoding only the new text), trains on the new tokens with replay, and is refused
before anything runs when there is no parent or the tokenizer would change."""

import json

import pytest

from tests.conftest import tiny_config
from tests.dedup.prose import distinct_paragraphs, write_jsonl
from zerollm.config import ConfigError
from zerollm.runner import plan, run_pipeline


def _config(inbox, *more):
    return tiny_config(f"collect.sources=[{{type: synthetic, language: en, seed: 0, target_mb: 0.3}}, "
                       f"{{type: jsonl, path: '{inbox}/*.jsonl', id_key: id}}]", "filter.preset=docs", *more)


@pytest.fixture(scope="module")
def lineage(tmp_path_factory):
    """A scratch run on the world plus one drop, then a second drop continued from it."""
    paragraphs = distinct_paragraphs()
    tmp = tmp_path_factory.mktemp("continue")
    inbox, work = tmp / "inbox", tmp / "work"
    inbox.mkdir()
    write_jsonl(inbox / "a.jsonl", [{"id": f"a{i}", "text": t} for i, t in enumerate(paragraphs[:40])])
    scratch = {o.stage: o for o in run_pipeline(_config(inbox), work, until="pretrain")}
    write_jsonl(inbox / "b.jsonl", [{"id": f"b{i}", "text": t} for i, t in enumerate(paragraphs[40:160])])
    cont = {o.stage: o for o in run_pipeline(_config(inbox, "pretrain.init=continue"), work, until="pretrain")}
    return work, inbox, scratch, cont


def _curve(work, outcome):
    return [json.loads(x) for x in (work / outcome.dir / "metrics.jsonl").read_text().splitlines()]


def test_continue_keeps_the_tokenizer_and_encodes_only_new_text(lineage):
    work, _, scratch, cont = lineage
    old, new = work / scratch["tokenizer"].dir, work / cont["tokenizer"].dir
    assert (new / "hf" / "tokenizer.model").read_bytes() == (old / "hf" / "tokenizer.model").read_bytes()
    m = cont["tokenizer"].metrics
    assert 0 < m["shards_encoded"] < m["shards"]
    assert m["train_seconds"] == 0  # no tokenizer training
    index = json.loads((new / "index.json").read_text())
    assert index["val_cutoff"] == json.loads((old / "index.json").read_text())["val_cutoff"]
    assert index["train"]["tokens"] > json.loads((old / "index.json").read_text())["train"]["tokens"]


def test_continue_trains_from_the_parent_on_new_tokens_for_fewer_steps(lineage):
    work, _, scratch, cont = lineage
    m = cont["pretrain"].metrics
    assert 0 < m["continue_new_tokens"] and m["continue_old_tokens"] > 0
    assert 0 < m["steps"] < scratch["pretrain"].metrics["steps"]
    first_scratch = _curve(work, scratch["pretrain"])[0]["train_loss"]
    first_cont = _curve(work, cont["pretrain"])[0]["train_loss"]
    assert first_cont < first_scratch - 1.0  # it starts where the parent ended, not from random weights
    summary = json.loads((work / cont["pretrain"].dir / "MANIFEST.json").read_text())["summary"]["lineage"]
    assert summary["init"] == "continue" and summary["parent_key"] == scratch["pretrain"].key
    assert summary["parent_dir"] == scratch["pretrain"].dir


def test_nothing_new_reuses_the_continued_lineage(lineage):
    """The newest model was trained on this very data: it is this run's own result, not its parent."""
    work, inbox, _, cont = lineage
    plans = plan(_config(inbox, "pretrain.init=continue"), work, until="pretrain")
    assert [(p.stage, p.action) for p in plans] == [(s, "reuse") for s in cont]
    assert plans[-1].key == cont["pretrain"].key


def test_continue_refuses_a_new_tokenizer_config_before_anything_runs(lineage):
    work, inbox, _, _ = lineage
    with pytest.raises(ConfigError) as exc:
        plan(_config(inbox, "pretrain.init=continue", "tokenizer.vocab_size=2048"), work)
    assert str(exc.value).count("\n") == 0
    assert "tokenizer.vocab_size: 1024 → 2048 under pretrain.init: continue" in str(exc.value)


def test_continue_without_a_parent_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="has no pretrained model yet"):
        plan(tiny_config("pretrain.init=continue"), tmp_path)
