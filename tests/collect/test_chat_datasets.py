"""collect's chat/task datasets: every accepted row format normalised, every bad row a counted reject."""

import hashlib
import http.server
import json
import threading
from functools import partial

import pytest
from pydantic import ValidationError

from zerollm.collect import stage as collect
from zerollm.collect.chat import eval_row, preference_row, prompt_row, sft_row
from zerollm.collect.config import CollectConfig
from zerollm.io.shards import read_jsonl

WORLD = {"type": "synthetic", "target_mb": 0.05}  # a small pretraining corpus; its datasets unused unless asked

U = lambda c: {"role": "user", "content": c}  # noqa: E731
A = lambda c: {"role": "assistant", "content": c}  # noqa: E731
S = lambda c: {"role": "system", "content": c}  # noqa: E731


def _write(path, rows):
    """JSON lines; a str row is written as-is (for broken lines)."""
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _run(tmp_path, ctx, **kw):
    cfg = CollectConfig(**{"sources": [WORLD], **kw})
    out = tmp_path / "out"
    out.mkdir()
    res = collect.run(cfg, {}, out, ctx)
    data = {k: read_jsonl(out / "datasets" / f"{k}.jsonl") for k in ("sft", "preference", "eval", "prompts")}
    return res.metrics, data, read_jsonl(out / "rejects.jsonl")


def _rejected(m: dict, ds: str) -> dict:
    prefix = f"{ds}_rejected_"
    return {k[len(prefix):]: v for k, v in m.items() if k.startswith(prefix)}


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    f = {}
    f["alpaca"] = _write(d / "alpaca.jsonl", [
        {"instruction": "Name a colour.", "output": "Blue."},
        {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5", "system": "Be brief."},
        {"instruction": "No output here."},                                     # missing_field
        {"instruction": "   ", "output": "x"},                                  # empty_turn
        '{"instruction": "broken',                                              # bad_json
        "[1, 2]",                                                               # not_an_object
        '{"instruction": "lone \\ud800 surrogate", "output": "x"}',             # invalid_utf8
        {"instruction": "Long", "output": "y" * 300},                           # too_long
        {"id": "dup", "instruction": "a", "output": "b"},
        {"id": "dup", "instruction": "c", "output": "d"},                       # duplicate_id
    ])
    f["sharegpt"] = _write(d / "sharegpt.jsonl", [
        {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]},
        {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q1"},
                           {"from": "gpt", "value": "A1"}, {"from": "human", "value": "Q2"},
                           {"from": "chatgpt", "value": "A2"}]},
        {"conversations": [{"from": "narrator", "value": "x"}, {"from": "gpt", "value": "y"}]},  # unknown_role
        {"conversations": [{"from": "gpt", "value": "first"}, {"from": "human", "value": "then"}]},  # role_order
        {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": " "}]},  # empty_turn
    ])
    f["messages"] = _write(d / "messages.jsonl", [
        {"id": "m1", "messages": [U("Q"), A("A")], "facts": ["f1"]},
        {"messages": [U("Q")]},                                                 # role_order: ends with user
        {"messages": [U("Q"), {"role": "assistant", "content": 5}]},            # bad_type
        {"messages": [{"role": "user"}, A("A")]},                               # missing_field
        {"text": "plain"},                                                      # unknown_format
        {"messages": [U("Q"), S("S"), A("A")]},                                 # role_order: system not first
    ])
    f["pc"] = _write(d / "pc.jsonl", [
        {"prompt": "2+2?", "completion": "4"},
        {"prompt": [U("Hi")], "completion": [A("Hey")]},
        {"prompt": "only a prompt"},                                            # missing_field
    ])
    f["preference"] = _write(d / "pref.jsonl", [
        {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Rome."},
        {"prompt": [U("Q")], "chosen": [A("good")], "rejected": [A("bad")], "facts": ["f2"]},
        {"chosen": [U("Hi"), A("Hello, how can I help?")], "rejected": [U("Hi"), A("Go away.")]},  # implicit
        {"prompt": "Q", "chosen": "same", "rejected": "same"},                  # same_answer
        {"prompt": "Q", "chosen": "A"},                                         # missing_field
        {"chosen": "a", "rejected": "b"},                                       # missing_field: no prompt
        {"chosen": [U("one"), A("a")], "rejected": [U("two"), A("a")]},         # role_order: nothing shared
        {"prompt": "Q?", "chosen": [U("Q?"), A("yes")], "rejected": [U("Q?"), A("no")]},  # prompt repeated
    ])
    f["eval"] = _write(d / "eval.jsonl", [
        {"question": "Q1?", "answer": "A", "choices": ["A", "B", "C", "D"], "fact": "f1", "category": "c"},
        {"question": "Q2?", "answer": "X", "fact": "f-unseen"},
        {"question": "Q3?", "answer": 1, "choices": ["a", "b"]},               # index answer
        {"question": "Q4?", "answer": "Z", "choices": ["A", "B"]},             # bad_choices: answer missing
        {"question": "Q5?", "answer": "A", "choices": ["A", "A"]},             # bad_choices: 1 distinct
        {"question": "Q6?"},                                                    # missing_field
        {"answer": "orphan"},                                                   # missing_field (format qa)
    ])
    f["prompts"] = _write(d / "prompts.jsonl", [
        {"prompt": "What is 6*7?", "answer": 42},
        {"messages": [U("Hi"), A("Hello")]},                                    # trailing reply dropped
        {"question": "Q?", "answer": "yes"},
        {"prompt": [A("I start")]},                                             # role_order
        {"messages": [U("Q"), A("A"), A("B")]},                                 # role_order
        {"foo": 1},                                                             # unknown_format
    ])
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"messages": [[U("P1"), A("R1")], [U("P2"), A("R2")]]}), d / "chat.parquet")
    f["parquet"] = str(d / "chat.parquet")
    return f


def test_every_format_normalised_and_every_bad_row_counted(tmp_path, ctx, files):
    m, data, rejects = _run(
        tmp_path, ctx, max_row_chars=200,
        sft=[{"type": "jsonl", "name": "alpaca", "path": files["alpaca"], "format": "alpaca"},
             {"type": "jsonl", "name": "sharegpt", "path": files["sharegpt"]},
             {"type": "jsonl", "name": "msgs", "path": files["messages"], "format": "auto"},
             {"type": "jsonl", "name": "pc", "path": files["pc"], "format": "prompt_completion"},
             {"type": "parquet", "path": files["parquet"], "format": "messages"}],
        preference=[{"type": "jsonl", "path": files["preference"]}],
        eval=[{"type": "jsonl", "path": files["eval"], "format": "qa"}],
        prompts=[{"type": "jsonl", "path": files["prompts"]}])

    # --- counts: in = out + rejected, per reason, per dataset
    assert (m["sft_in"], m["sft_out"], m["sft_rejected"]) == (26, 10, 16)
    assert _rejected(m, "sft") == {"missing_field": 3, "empty_turn": 2, "bad_json": 1, "not_an_object": 1,
                                   "invalid_utf8": 1, "too_long": 1, "duplicate_id": 1, "unknown_role": 1,
                                   "role_order": 3, "bad_type": 1, "unknown_format": 1}
    assert (m["preference_in"], m["preference_out"], m["preference_rejected"]) == (8, 4, 4)
    assert _rejected(m, "preference") == {"same_answer": 1, "missing_field": 2, "role_order": 1}
    assert (m["eval_in"], m["eval_out"], m["eval_rejected"], m["eval_seen"]) == (7, 3, 4, 1)
    assert _rejected(m, "eval") == {"bad_choices": 2, "missing_field": 2}  # format qa: no detection
    assert (m["prompts_in"], m["prompts_out"], m["prompts_rejected"]) == (6, 3, 3)
    assert _rejected(m, "prompts") == {"role_order": 2, "unknown_format": 1}
    for ds in ("sft", "preference", "eval", "prompts"):
        assert m[f"{ds}_in"] == m[f"{ds}_out"] + m[f"{ds}_rejected"] == m[f"{ds}_out"] + sum(_rejected(m, ds).values())
        assert len(data[ds]) == m[f"{ds}_out"]
    assert m["docs_out"] > 0 and "docs_sft" not in m  # the pretraining corpus is unchanged beside them

    # --- rows
    sft = {(r["source"], i): r for i, r in enumerate(data["sft"])}
    msgs = [r["messages"] for r in data["sft"]]
    assert msgs[0] == [U("Name a colour."), A("Blue.")]
    assert msgs[1] == [S("Be brief."), U("Add the numbers.\n\n2 and 3"), A("5")]
    assert msgs[2] == [U("a"), A("b")] and data["sft"][2]["id"] == "alpaca:dup"
    assert msgs[3] == [U("Hi"), A("Hello!")]
    assert msgs[4] == [S("S"), U("Q1"), A("A1"), U("Q2"), A("A2")]
    assert data["sft"][5] == {"id": "msgs:m1", "source": "msgs", "facts": ["f1"], "messages": [U("Q"), A("A")]}
    assert msgs[6:] == [[U("2+2?"), A("4")], [U("Hi"), A("Hey")], [U("P1"), A("R1")], [U("P2"), A("R2")]]
    assert [r["source"] for r in data["sft"]] == ["alpaca"] * 3 + ["sharegpt"] * 2 + ["msgs"] + ["pc"] * 2 + \
        ["parquet"] * 2
    assert data["sft"][0]["id"] == f"alpaca:{files['alpaca']}:1" and data["sft"][8]["id"].startswith("parquet:")
    assert len(sft) == 10

    pref = data["preference"]
    assert [(p["prompt"], p["chosen"], p["rejected"]) for p in pref] == [
        ([U("Capital of France?")], [A("Paris.")], [A("Rome.")]),
        ([U("Q")], [A("good")], [A("bad")]),
        ([U("Hi")], [A("Hello, how can I help?")], [A("Go away.")]),
        ([U("Q?")], [A("yes")], [A("no")]),
    ]
    assert pref[1]["facts"] == ["f2"]

    ev = data["eval"]
    assert ev[0] == {"id": f"jsonl:{files['eval']}:1", "source": "jsonl", "question": "Q1?", "answer": "A",
                     "choices": ["A", "B", "C", "D"], "fact": "f1", "category": "c", "seen": True}
    assert ev[1]["seen"] is False and "choices" not in ev[1]
    assert (ev[2]["answer"], ev[2]["choices"], ev[2]["seen"]) == ("b", ["a", "b"], False)

    pr = data["prompts"]
    assert [(p["prompt"], p.get("answer")) for p in pr] == [([U("What is 6*7?")], "42"), ([U("Hi")], None),
                                                            ([U("Q?")], "yes")]

    # --- rejects: sampled per dataset and reason, writable UTF-8 even for the lone surrogate
    by = {(r["dataset"], r["reason"]) for r in rejects}
    assert {("sft", "invalid_utf8"), ("sft", "bad_json"), ("sft", "too_long"), ("preference", "same_answer"),
            ("eval", "bad_choices"), ("prompts", "role_order")} <= by
    r = next(r for r in rejects if r["reason"] == "duplicate_id")
    assert r["source"] == "alpaca" and r["where"].endswith("alpaca.jsonl:10")
    assert all(r["dataset"] in ("pretrain", "sft", "preference", "eval", "prompts") for r in rejects)


def test_default_datasets_come_from_the_synthetic_worlds(tmp_path, ctx, monkeypatch):
    from zerollm.collect import synthetic

    calls = []
    real = synthetic.generate
    monkeypatch.setattr(synthetic, "generate", lambda cfg: calls.append(cfg.name) or real(cfg))
    small = {"type": "synthetic", "target_mb": 0.05, "n_eval": 20, "n_eval_seen": 10, "n_preference": 30,
             "n_prompts": 30}
    en, zh = {**small, "name": "en"}, {**small, "name": "zh", "language": "zh"}
    m, data, _ = _run(tmp_path, ctx, sources=[en, zh], prompts=[en])  # explicit, same world: generated once
    assert calls == ["en", "zh"]
    for ds, n in (("sft", 500), ("preference", 30), ("eval", 30)):
        assert m[f"{ds}_out"] == m[f"{ds}_in"] == 2 * n and m[f"{ds}_rejected"] == 0
        assert {r["source"] for r in data[ds]} == {"en", "zh"}
    assert m["prompts_out"] == 30 and {r["source"] for r in data["prompts"]} == {"en"}
    assert m["eval_seen"] == 20
    for name in ("en", "zh"):
        ev = [r for r in data["eval"] if r["source"] == name]
        assert [r["seen"] for r in ev] == [False] * 20 + [True] * 10  # n_eval held out, then n_eval_seen
        assert all(r["answer"] in r["choices"] and r["id"].startswith(f"{name}:{name}-eval-") for r in ev)
    assert data["sft"][0]["messages"][0]["role"] == "user" and data["sft"][0]["facts"]


def test_no_synthetic_world_means_the_embedded_worlds_datasets(tmp_path, ctx):
    """Own corpus, chat sets unset: they come from the embedded world (so sft and rlhf have data)."""
    (tmp_path / "doc.txt").write_text("A plain document.")
    m, data, _ = _run(tmp_path, ctx, sources=[{"type": "text", "path": str(tmp_path / "doc.txt")}])
    assert all(m[f"{ds}_out"] > 0 for ds in ("sft", "preference", "eval", "prompts"))
    assert {r["source"] for r in data["eval"]} == {"synthetic"} and m["docs_out"] == 1


def test_bad_format_names_the_key():
    with pytest.raises(ValidationError, match=r"collect\.sft\[1\]\.format: 'foo' not one of auto, messages, "
                                              r"alpaca, sharegpt, prompt_completion"):
        CollectConfig(sft=[{"type": "jsonl", "path": "a.jsonl"}, {"type": "jsonl", "path": "b", "name": "b",
                                                                    "format": "foo"}])
    with pytest.raises(ValidationError, match=r"collect\.preference\[0\]\.format: 'alpaca' not one of auto, "
                                              r"preference"):
        CollectConfig(preference=[{"type": "hf", "dataset": "x", "format": "alpaca"}])
    with pytest.raises(ValidationError, match=r"collect\.eval: source names must be unique"):
        CollectConfig(eval=[{"type": "jsonl", "path": "a"}, {"type": "jsonl", "path": "b"}])
    with pytest.raises(ValidationError, match="sha256"):
        CollectConfig(prompts=[{"type": "url", "url": "http://x/a.jsonl"}])


def test_bad_format_through_the_pipeline_config_is_one_line():
    from zerollm.config import ConfigError, load_config
    from zerollm.pipeline_config import PipelineConfig

    with pytest.raises(ConfigError, match=r"collect\.prompts\[0\]\.format: 'qa' not one of auto, messages, prompt"):
        load_config(PipelineConfig, None, ["collect.prompts=[{type: jsonl, path: p.jsonl, format: qa}]"])


def test_missing_files_name_the_key(tmp_path, ctx):
    with pytest.raises(collect.CollectError, match=r"collect\.eval\[0\]\.path: no files match"):
        _run(tmp_path, ctx, eval=[{"type": "jsonl", "path": str(tmp_path / "none*.jsonl")}])


def test_fingerprint_covers_dataset_files(tmp_path, ctx):
    p = tmp_path / "e.jsonl"
    _write(p, [{"question": "Q?", "answer": "A"}])
    cfg = CollectConfig(sources=[WORLD], eval=[{"type": "jsonl", "path": str(p)}])
    before = collect.fingerprint(cfg, ctx)
    assert before["eval.0"][0][0] == str(p)
    _write(p, [{"question": "Q?", "answer": "B"}])
    assert collect.fingerprint(cfg, ctx) != before


def test_hf_folder_and_url_sources(tmp_path, ctx):
    hf = tmp_path / "hfds"
    hf.mkdir()
    _write(hf / "train.jsonl", [{"prompt": f"Question {i}?", "answer": str(i)} for i in range(4)])
    www = tmp_path / "www"
    www.mkdir()
    body = (json.dumps({"id": "u1", "question": "Remote?", "answer": "Yes"}) + "\n").encode()
    (www / "eval.jsonl").write_bytes(body)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/eval.jsonl"
        m, data, _ = _run(tmp_path, ctx,
                          prompts=[{"type": "hf", "dataset": str(hf), "limit": 3}],
                          eval=[{"type": "url", "url": url, "sha256": hashlib.sha256(body).hexdigest(),
                                 "retries": 0}])
    finally:
        srv.shutdown()
    assert [(p["id"], p["answer"]) for p in data["prompts"]] == [("hf:0", "0"), ("hf:1", "1"), ("hf:2", "2")]
    assert data["eval"] == [{"id": "url:u1", "source": "url", "question": "Remote?", "answer": "Yes", "seen": False}]


@pytest.mark.parametrize("fn,row,reason", [
    (sft_row, {"messages": []}, "missing_field"),
    (sft_row, {"messages": "hi"}, "bad_type"),
    (sft_row, {"messages": [U("q"), A("a")], "facts": "f1"}, "bad_type"),
    (preference_row, {"chosen": [U("q"), A("a")], "rejected": [U("q"), A("a")]}, "same_answer"),
    (preference_row, {"chosen": [U("q")], "rejected": [U("q"), A("a")]}, "role_order"),
    (eval_row, {"question": "q", "answer": 5, "choices": ["a", "b"]}, "bad_choices"),
    (eval_row, {"question": "q", "answer": "a", "choices": "a,b"}, "bad_choices"),
    (prompt_row, {"prompt": "q", "answer": ["x"]}, "bad_type"),
    (prompt_row, None, "not_an_object"),
])
def test_normaliser_rejects(fn, row, reason):
    out = fn(row, "auto", "here")
    assert getattr(out, "reason", None) == reason, out
