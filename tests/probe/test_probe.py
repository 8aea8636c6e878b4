"""The held-out probe: answer matching, multiple choice by likelihood, the per-stage table."""

import json

import pytest

from zerollm.probe import ProbeConfig, contains_answer, load_items, mc_continuation, mc_prompt, run_probe


@pytest.mark.parametrize("reply, gold, ok", [
    ("Mira Holt is 34 years old.", "34", True),
    ("Mira Holt is 134 years old.", "34", False),
    ("She works as a Baker!", "baker", True),
    ("the river Alder", "Alder", True),
    ("Alderwood", "Alder", False),
    ("他最喜欢的颜色是 蓝色。", "蓝色", True),
    ("他最喜欢的颜色是红色。", "蓝色", False),
    ("１９８１年开业。", "1981", True),  # full-width digits (NFKC), a number next to a CJK character
    ("宋天佑已经65岁了。", "65", True),
    ("宋天佑已经165岁了。", "65", False),
    ("银锚图书馆是1981年开业的！", "1981", True),
    ("好的。黄凯最喜欢吃面条。", "面条", True),  # a lead-in sentence, then the answer
    ("好的。黄凯的爱好是观鸟。他最喜欢吃面条。", "面条", False),  # the answer only after the opening
    ("他住在南山 镇。", "南山镇", True),  # stray spaces inside Chinese
    ("他住在“南山镇”。", "南山镇", True),  # full-width quotes around it
    ("anything", "", False),
    ("Sure. Mira Holt is 34 years old.", "34", True),
    ("Mira. Mira lives in Elm. She is 34 and likes tea.", "34", False),  # rambling: not in the opening
])
def test_contains_answer(reply, gold, ok):
    assert contains_answer(reply, gold) is ok


def test_items_keep_held_out_and_seen_apart(tmp_path):
    d = tmp_path / "datasets"
    d.mkdir()
    rows = [{"id": f"h{i}", "question": "q", "answer": "a", "seen": False} for i in range(5)]
    rows += [{"id": f"s{i}", "question": "q", "answer": "a", "seen": True} for i in range(5)]
    (d / "eval.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    items = load_items(tmp_path, 3)
    assert [i["id"] for i in items] == ["h0", "h1", "h2", "s0", "s1", "s2"]


def test_probe_on_a_real_base_model(chat_base, tmp_path):
    from zerollm.finetune import load_model

    model, tok = load_model(chat_base["pretrain"] / "model")
    items = load_items(chat_base["collect"], 24)
    m = run_probe(model, tok, chat_base["collect"], ProbeConfig(max_items=24), "pretrain", tmp_path)
    held = [i for i in items if not i["seen"]]
    assert m["qa_items"] == len(held) and m["qa_items_seen"] == len(items) - len(held)
    assert 0 <= m["qa_mc_accuracy"] <= 1 and m["qa_mc_chance"] == pytest.approx(0.25, abs=0.05)
    rows = [json.loads(line) for line in (tmp_path / "probe.jsonl").read_text().splitlines()]
    assert len(rows) == len(items)
    assert {"question", "gold", "answer_pretrain", "correct_pretrain", "mc_pretrain"} <= set(rows[0])
    assert all(r["mc_pretrain"] in i["choices"] for r, i in zip(rows, items))
    assert mc_prompt("Who?") == "Question: Who?\nAnswer:"


def test_mc_picks_the_likeliest_choice(chat_base):
    """The choice the model itself continues with greedily must win the likelihood comparison."""
    import torch

    from zerollm.finetune import load_model
    from zerollm.probe import mc_scores

    model, tok = load_model(chat_base["pretrain"] / "model")
    ctx = tok.encode(mc_prompt("What is the name of the town?"), add_special_tokens=False)
    out = model.generate(torch.tensor([ctx]), max_new_tokens=3, do_sample=False)
    greedy = tok.decode(out[0, len(ctx):]).strip()
    item = {"question": "What is the name of the town?", "choices": ["zzqx vvv", greedy, "qqq ppp"]}
    assert greedy and mc_scores(model, tok, [item], batch_size=2) == [1]


def test_paired_change_counts_fixed_and_broken():
    """The issue's own numbers for pretrain → sft: 59 fixed, 10 broken of 200 gives +0.245 ± 0.074."""
    from zerollm.probe import paired

    def rows_of(before: bool, after: bool, n: int) -> list[dict]:
        return [{"correct_pretrain": before, "correct_sft": after}] * n

    rows = rows_of(False, True, 59) + rows_of(True, False, 10) + rows_of(False, False, 100) + rows_of(True, True, 31)
    m = paired(rows, "pretrain", "sft")
    assert (m["qa_fixed"], m["qa_broken"], m["qa_paired_items"]) == (59, 10, 200)
    assert m["qa_exact_match_delta"] == pytest.approx(0.245)
    assert m["qa_exact_match_delta_high"] - m["qa_exact_match_delta"] == pytest.approx(0.074, abs=0.001)
    assert m["qa_exact_match_delta_low"] > 0
    same = paired([{"correct_a": True, "correct_b": False}, {"correct_a": False, "correct_b": True}] * 20, "a", "b")
    assert same["qa_exact_match_delta"] == 0
    assert same["qa_exact_match_delta_low"] < 0 < same["qa_exact_match_delta_high"]


def test_a_later_stage_is_paired_with_the_one_before(chat_base, tmp_path):
    """sft's probe over pretrain's table: the paired metrics name what changed on the same questions."""
    from zerollm.finetune import load_model

    model, tok = load_model(chat_base["pretrain"] / "model")
    first, second = tmp_path / "pretrain", tmp_path / "sft"
    first.mkdir()
    second.mkdir()
    run_probe(model, tok, chat_base["collect"], ProbeConfig(max_items=24), "pretrain", first)
    m = run_probe(model, tok, chat_base["collect"], ProbeConfig(max_items=24), "sft", second, upstream=first)
    assert m["qa_paired_items"] == m["qa_items"]
    assert m["qa_exact_match_delta"] == 0 and m["qa_fixed"] == m["qa_broken"] == 0, "the same model changes nothing"
    # every stage is scored on the plain prompt (comparable); a chat stage also in its chat template
    from zerollm.probe import chat_mc_prompt

    assert chat_mc_prompt(tok, "Who?").endswith("<|im_start|>assistant\n")
    rows = [json.loads(line) for line in (second / "probe.jsonl").read_text().splitlines()]
    assert all("mc_pretrain" in r and "mc_sft" in r and "mc_chat_sft" in r and "mc_chat_pretrain" not in r
               for r in rows)
    assert "qa_mc_accuracy_chat" in m and all(r["mc_sft"] == r["mc_pretrain"] for r in rows)  # same model, prompt


def test_chinese_questions_get_a_chinese_frame():
    """An English frame before a Chinese question is byte pieces to a Chinese tokenizer: the cloze form
    (question, then the answer directly, no space) is text the model has read."""
    assert mc_prompt("黄凯最喜欢吃什么？") == "黄凯最喜欢吃什么？"
    assert mc_continuation("黄凯最喜欢吃什么？", "面条") == "面条"
    assert mc_prompt("Who?") == "Question: Who?\nAnswer:" and mc_continuation("Who?", "Ann") == " Ann"


def test_chinese_frame_has_no_byte_pieces(tmp_path):
    """With a tokenizer trained on the Chinese world, the frame adds no byte pieces (<0x..>) to a question."""
    import logging

    import sentencepiece as spm

    from tests.tokenizer.test_tokenizer import _write_dedup
    from zerollm.collect.synthetic import generate
    from zerollm.collect.synthetic.config import SyntheticConfig
    from zerollm.stage import StageContext
    from zerollm.tokenizer.config import TokenizerConfig
    from zerollm.tokenizer.stage import run

    data = generate(SyntheticConfig(language="zh", target_mb=0.3))
    docs = [{"id": f"d{i}", "text": d["text"], "metadata": {}} for i, d in enumerate(data.docs)]
    out = tmp_path / "tok"
    out.mkdir()
    run(TokenizerConfig(vocab_size=2048, num_workers=1), {"dedup": _write_dedup(tmp_path / "dedup", docs)}, out,
        StageContext(workdir=tmp_path, log=logging.getLogger("t")))
    sp = spm.SentencePieceProcessor(model_file=str(out / "hf" / "tokenizer.model"))
    def n_bytes(text):
        return sum(sp.id_to_piece(i).startswith("<0x") for i in sp.encode(text))

    for it in data.eval[:50]:
        q = it["question"]
        framed = mc_prompt(q) + mc_continuation(q, it["answer"])
        assert n_bytes(framed) == n_bytes(q) + n_bytes(it["answer"]), q  # the frame itself adds no byte pieces
    english = [sp.id_to_piece(i) for i in sp.encode(f"Question: {data.eval[0]['question']}\nAnswer:")]
    assert sum(p.startswith("<0x") for p in english) >= 10  # what the English frame was to this model
