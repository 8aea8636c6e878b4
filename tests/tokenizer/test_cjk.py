"""Chinese text in the tokenizer: a name or an answer is one piece sequence wherever it stands (issue 26)."""

from __future__ import annotations

import logging

import pytest

from zerollm.collect.synthetic import generate
from zerollm.collect.synthetic.config import SyntheticConfig
from zerollm.collect.synthetic.world import build_world
from zerollm.stage import StageContext
from zerollm.tokenizer.config import TokenizerConfig
from zerollm.tokenizer.stage import run
from zerollm.tokenizer.train import WORD_BREAK, segment_cjk

from tests.tokenizer.test_tokenizer import _write_dedup


def test_segment_cjk_breaks_only_chinese_runs():
    text = "黄凯说：“我最喜欢吃面条。”Vera Yates is 34."
    words = segment_cjk(text, "words")
    assert words.replace(WORD_BREAK, "") == text  # only marks are added
    assert f"{WORD_BREAK}面条{WORD_BREAK}" in words and f"{WORD_BREAK}喜欢{WORD_BREAK}" in words
    assert words.endswith("。”Vera Yates is 34.")  # punctuation and Latin text untouched
    assert segment_cjk("黄凯34岁", "chars") == f"{WORD_BREAK}黄{WORD_BREAK}凯{WORD_BREAK}34{WORD_BREAK}岁{WORD_BREAK}"
    assert segment_cjk(text, "off") == text
    assert segment_cjk("Vera Yates is 34.", "words") == "Vera Yates is 34."


@pytest.fixture(scope="module")
def zh_world(tmp_path_factory):
    """The embedded Chinese world's documents, a tokenizer trained on them per segmentation mode."""
    tmp = tmp_path_factory.mktemp("zh")
    cfg = SyntheticConfig(language="zh", seed=0, target_mb=0.4)
    data = generate(cfg)
    docs = [{"id": f"zh-{i:05d}", "text": d["text"], "metadata": {}} for i, d in enumerate(data.docs)]
    dedup = _write_dedup(tmp / "dedup", docs)
    built = {}
    for mode in ("words", "off"):
        out = tmp / mode
        out.mkdir()
        result = run(TokenizerConfig(vocab_size=2048, cjk_segmentation=mode, num_workers=1), {"dedup": dedup}, out,
                     StageContext(workdir=tmp, log=logging.getLogger("t")))
        built[mode] = (out, result)
    world = build_world(cfg.seed, cfg.n_entities, "zh")
    return data, world, built


def _pieces(out, text: str) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(out / "hf" / "tokenizer.model"))
    return [sp.id_to_piece(i) for i in sp.encode(text)]


def _contains(seq: list[str], sub: list[str]) -> bool:
    return any(seq[i:i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))


def test_names_and_answers_keep_their_pieces_in_every_frame(zh_world):
    """A person's name and an answer value split the same way alone, in a question and in a story sentence,
    and a full name holds its short form's pieces."""
    data, world, built = zh_world
    out, result = built["words"]
    assert result.metrics["hf_sp_agreement"] == 1.0  # the HF tokenizer still encodes as sentencepiece does
    names = [p.name for p in world.kind("person")]
    for name in names:
        alone = _pieces(out, name)
        for frame in (f"{name}最喜欢吃什么？", f"“好啊，”{name}说。", f"我在集市上遇见了{name}。"):
            assert _contains(_pieces(out, frame), alone), (name, frame, _pieces(out, frame))
    # the short form a story uses after the first mention is inside the full name's pieces, except where
    # jieba's dictionary holds the whole name (李雨桐) or a word across it (高大|山)
    people = [p for p in world.kind("person") if p.first != p.name]
    shared = [p for p in people if _contains(_pieces(out, p.name), _pieces(out, p.first))]
    assert len(shared) >= 0.75 * len(people), [(p.name, _pieces(out, p.name)) for p in people if p not in shared]
    for item in data.eval[:80]:
        if item["answer"].isdigit():
            continue
        alone = _pieces(out, item["answer"])
        assert _contains(_pieces(out, item["question"].rstrip("？") + item["answer"] + "。"), alone), item


def test_without_segmentation_phrases_fuse_with_their_values(zh_world):
    """The cause the default fixes: sentencepiece alone learns a fact and its frame as one piece."""
    _, _, built = zh_world
    fused = [p for p in (_pieces(built["off"][0], "黄凯最喜欢吃面条。") + _pieces(built["off"][0], "她最喜欢的颜色是粉色。"))
             if len(p) >= 4]
    kept = _pieces(built["words"][0], "黄凯最喜欢吃面条。")
    assert fused, "expected phrase pieces without segmentation"
    assert "面条" in kept and not any(len(p) >= 4 for p in kept)


def test_segmentation_is_a_config_choice():
    with pytest.raises(ValueError, match="cjk_segmentation"):
        TokenizerConfig(cjk_segmentation="jieba")


def test_chat_role_words_are_one_piece_in_hf_and_sentencepiece(tmp_path, monkeypatch):
    """A Chinese corpus never spells user/assistant: as pieces of their own a chat row's frame is 3 tokens,
    and Hugging Face cuts them out of the text exactly as sentencepiece does."""
    import json

    import sentencepiece as spm
    from transformers import AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = generate(SyntheticConfig(language="zh", seed=0, target_mb=0.3))
    docs = [{"id": f"zh-{i:05d}", "text": d["text"], "metadata": {}} for i, d in enumerate(data.docs)]
    dedup = _write_dedup(tmp_path / "dedup", docs)
    sizes = {}
    for on in (False, True):
        out = tmp_path / f"roles-{on}"
        out.mkdir()
        result = run(TokenizerConfig(vocab_size=2048, chat_role_pieces=on, num_workers=1), {"dedup": dedup}, out,
                     StageContext(workdir=tmp_path, log=logging.getLogger("t")))
        tok = AutoTokenizer.from_pretrained(out / "hf")
        chat = tok.apply_chat_template(data.sft[0]["messages"], tokenize=False)
        sizes[on] = len(tok.encode(chat, add_special_tokens=False))
        if on:
            assert result.metrics["hf_sp_agreement"] == 1.0
            sp = spm.SentencePieceProcessor(model_file=str(out / "hf" / "tokenizer.model"))
            bare = chat.replace("<|im_start|>", "").replace("<|im_end|>", "")  # sentencepiece reads those as text
            for text in (bare, "a user and an assistant; users, superuser, system32", "用户user说"):
                assert tok.encode(text, add_special_tokens=False) == sp.encode(text), text
            pieces = tok.convert_ids_to_tokens(tok.encode(chat, add_special_tokens=False))
            assert "user" in pieces and "assistant" in pieces
            added = json.loads((out / "hf" / "tokenizer_config.json").read_text())["added_tokens_decoder"]
            roles = {a["content"]: a["special"] for a in added.values() if a["content"] in ("user", "assistant")}
            assert roles == {"user": False, "assistant": False}  # llama.cpp's converter: user-defined
    assert sizes[True] <= sizes[False] - 10
