"""tokenizer stage on a small synthetic corpus: HF export == sentencepiece, shards, split, determinism."""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
from pathlib import Path

import numpy as np
import pytest

from zerollm.stage import StageContext
from zerollm.tokenizer import shards as token_shards
from zerollm.tokenizer.config import TokenizerConfig
from zerollm.tokenizer.shards import doc_hash, val_cutoff
from zerollm.tokenizer.stage import run
from zerollm.tokenizer.train import training_chunks

WORDS = ("the model reads a long document about rivers mountains and cities while the small robot counts "
         "apples oranges numbers letters because every student wants to learn how language works in "
         "practice today tomorrow yesterday people often write code data tokens training evaluation").split()
SYLLABLES = ["ka", "lo", "mi", "ne", "tur", "sa", "vin", "pre", "qu", "ex", "on", "ing", "tion", "al", "er"]
CHINESE = "我们今天去公园散步天气很好大家都很开心这是一个关于语言模型的中文测试句子学习数据训练评估"
VARIED = [
    "Hello, world! The price is 1234.56 dollars.",
    "  leading spaces and trailing spaces   ",
    "multiple   spaces\tand\ttabs\n\nnew paragraph\n",
    "我们今天去公园散步。天气很好！",
    "mixed 中文 and English 2024年3月",
    "emoji 😀🚀 and rare ☃ ✓ ü é characters",
    "    def f(x):\n        return x * 2\n",
    "\n\nstarts with newlines",
    "ends with a newline\n",
    " ",
    "",
]


def _corpus(seed: int = 0, n: int = 300) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        paras = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(WORDS) if rng.random() < 0.7 else "".join(rng.choices(SYLLABLES, k=rng.randint(1, 3)))
                     for _ in range(rng.randint(5, 40))]
            para = " ".join(words).capitalize() + rng.choice([".", "!", "?", f" {rng.randint(0, 99999)}."])
            if rng.random() < 0.25:
                para += " " + "".join(rng.choices(CHINESE, k=rng.randint(5, 30))) + "。"
            if rng.random() < 0.1:
                para = "    " + para.replace(". ", ".\n    ")
            paras.append(para)
        docs.append({"id": f"doc-{i:05d}", "text": "\n\n".join(paras), "metadata": {"source": "test"}})
    return docs


def _write_dedup(root: Path, docs: list[dict]) -> Path:
    shards = root / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    with gzip.open(shards / "shard-00000.jsonl.gz", "wt", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return root


def _ctx(tmp_path: Path) -> StageContext:
    return StageContext(workdir=tmp_path, log=logging.getLogger("t"))


def _run(tmp_path: Path, name: str, docs: list[dict], **cfg):
    dedup = _write_dedup(tmp_path / f"dedup-{name}", docs)
    out = tmp_path / f"out-{name}"
    out.mkdir()
    cfg = TokenizerConfig(**{"vocab_size": 1024, "num_workers": 2, **cfg})
    return out, run(cfg, {"dedup": dedup}, out, _ctx(tmp_path))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tok")
    docs = _corpus()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(token_shards, "CHUNK_CHARS", 5000)  # many tasks: exercises ordering and the in-flight bound
        out, result = _run(tmp, "a", docs)
    return tmp, docs, out, result


def test_hf_tokenizer_matches_sentencepiece(built, monkeypatch):
    import sentencepiece as spm
    from transformers import AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, docs, out, result = built
    tok = AutoTokenizer.from_pretrained(out / "hf")
    sp = spm.SentencePieceProcessor(model_file=str(out / "hf" / "tokenizer.model"))
    texts = VARIED + [d["text"] for d in docs[:50]]
    for text in texts:
        ids = tok(text)["input_ids"]
        assert ids == sp.encode(text), text
        assert tok.decode(ids) == text
    assert "\n" in sp.id_to_piece(sp.encode("a\nb")[1])  # newline is a real piece, not a byte token
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id) == (1, 2, 3, 0)
    for i, t in enumerate(["<|im_start|>", "<|im_end|>"]):
        assert tok(t)["input_ids"] == [4 + i]
    assert result.metrics["hf_sp_agreement"] == 1.0


def test_chat_template_and_assistant_mask(built, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok = AutoTokenizer.from_pretrained(built[2] / "hf")
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
            {"role": "assistant", "content": "Hello friend"}, {"role": "user", "content": "我们"},
            {"role": "assistant", "content": "好 2024"}]
    text = tok.apply_chat_template(msgs, tokenize=False)
    assert text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
                    "<|im_start|>assistant\nHello friend<|im_end|>\n<|im_start|>user\n我们<|im_end|>\n"
                    "<|im_start|>assistant\n好 2024<|im_end|>\n")
    prompt = tok.apply_chat_template(msgs[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n")
    enc = tok.apply_chat_template(msgs, return_assistant_tokens_mask=True, return_dict=True)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    assert len(ids) == len(mask)
    marked = [i for i, m in zip(ids, mask) if m]
    expected = tok("Hello friend<|im_end|>")["input_ids"] + tok("好 2024<|im_end|>")["input_ids"]
    assert marked == expected
    assert tok.decode(marked) == "Hello friend<|im_end|>好 2024<|im_end|>"


def test_token_shards(built):
    import sentencepiece as spm

    _, docs, out, result = built
    index = json.loads((out / "index.json").read_text())
    assert index["dtype"] == "uint16" and index["separator"] == "eos" and index["eos_id"] == 2
    sp = spm.SentencePieceProcessor(model_file=str(out / "hf" / "tokenizer.model"))
    cutoff = val_cutoff([doc_hash(d["id"]) for d in docs], 0.01, 10)
    decoded = {}
    for split in ("train", "val"):
        tokens = np.memmap(out / f"{split}.bin", dtype=index["dtype"], mode="r")
        starts = np.load(out / f"{split}.docs.npy")
        assert starts.dtype == np.int64
        assert len(tokens) == index[split]["tokens"] and len(starts) == index[split]["docs"]
        ends = np.append(starts[1:], len(tokens))
        assert (tokens[ends - 1] == 2).all()  # every document ends with EOS
        decoded[split] = [sp.decode(tokens[s:e - 1].tolist()) for s, e in zip(starts, ends)]
    want_val = [d["text"] for d in docs if doc_hash(d["id"]) <= cutoff]
    want_train = [d["text"] for d in docs if doc_hash(d["id"]) > cutoff]
    assert decoded["val"] == want_val and decoded["train"] == want_train
    assert len(want_val) == 10  # 1% of 300 is 3: min_val_docs wins
    assert not set(want_val) & set(want_train)
    m = result.metrics
    assert m["val_docs"] == 10 and m["train_docs"] == 290 and m["vocab_size"] == 1024
    assert m["train_tokens"] == index["train"]["tokens"] and m["val_tokens"] == index["val"]["tokens"]
    assert m["bytes_per_token"] > 1 and 0 < m["vocab_used_frac"] <= 1 and m["train_seconds"] > 0
    for a in result.artifacts:
        assert (out / a).is_file()
    assert (out / "samples.txt").read_text().count("pieces") == 5
    assert not (out / "MANIFEST.json").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["hf", "index.json", "samples.txt", "train.bin", "val.bin", "train.docs.npy", "val.docs.npy"])


def test_deterministic_and_worker_independent(built):
    """Same input => same bytes, also with inline tokenization started from a non-main thread."""
    tmp, docs, out, _ = built
    box = {}

    def target():
        try:
            box["out"] = _run(tmp, "b", docs, num_workers=0)[0]
        except BaseException as exc:  # surfaced below
            box["err"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    assert "err" not in box, box.get("err")
    for name in ("train.bin", "val.bin", "train.docs.npy", "hf/tokenizer.model", "hf/tokenizer.json"):
        assert (out / name).read_bytes() == (box["out"] / name).read_bytes(), name


def test_spawn_pool_from_thread(built, monkeypatch):
    """The spawn pool works when the stage runs in a worker thread, and gives the inline bytes."""
    from zerollm.tokenizer.shards import tokenize_to_shards

    monkeypatch.setattr(token_shards, "CHUNK_CHARS", 3000)
    tmp, docs, out, _ = built
    model = out / "hf" / "tokenizer.model"
    pairs = [(i % 3 == 0, d["text"]) for i, d in enumerate(docs)]
    dirs = {w: tmp / f"pool-{w}" for w in (0, 2)}
    box = {}

    def target(w):
        dirs[w].mkdir()
        box[w] = tokenize_to_shards(iter(pairs), model, dirs[w], 1024, 2, num_workers=w)

    for w in (0, 2):
        t = threading.Thread(target=target, args=(w,))
        t.start()
        t.join()
    assert box[2]["val"]["docs"] == 100 and box[2]["train"] == box[0]["train"]
    for name in ("train.bin", "val.bin", "train.docs.npy", "val.docs.npy"):
        assert (dirs[0] / name).read_bytes() == (dirs[2] / name).read_bytes(), name


def test_unigram_exports_and_round_trips(tmp_path, monkeypatch):
    """Unigram is allowed; its HF form decodes losslessly (ids may differ from sentencepiece on exact
    Viterbi ties such as the order of '▁▁' and '▁' in a run of spaces: see hf_sp_agreement)."""
    from transformers import AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # 768: with its Chinese split into words this small corpus fills at most ~830 unigram pieces
    out, result = _run(tmp_path, "u", _corpus(n=200), model_type="unigram", num_workers=0, vocab_size=768)
    tok = AutoTokenizer.from_pretrained(out / "hf")
    for text in VARIED:
        assert tok.decode(tok(text)["input_ids"]) == text
    assert result.metrics["hf_sp_agreement"] > 0.9 and result.metrics["bytes_per_token"] > 1


def test_empty_corpus_raises(tmp_path):
    with pytest.raises(ValueError, match="empty corpus"):
        _run(tmp_path, "e", [])


def test_vocab_too_large_names_the_key(tmp_path):
    docs = [{"id": f"d{i}", "text": "tiny text here"} for i in range(30)]
    with pytest.raises(ValueError, match=r"tokenizer\.vocab_size.*<= \d+"):
        _run(tmp_path, "v", docs, vocab_size=4096)


def test_training_chunks_split_at_lines_and_bytes():
    text = "line one\n" * 10 + "我" * 100
    chunks = list(training_chunks(text, 40))
    assert "".join(chunks) == text
    assert all(len(c.encode()) <= 40 for c in chunks)
    assert chunks[0] == "line one\n" * 4


def test_config_bounds():
    from pydantic import ValidationError

    for bad in ({"vocab_size": 100}, {"model_type": "wordpiece"}, {"val_fraction": 0.9}, {"unknown": 1}):
        with pytest.raises(ValidationError):
            TokenizerConfig(**bad)
    for name, field in TokenizerConfig.model_fields.items():
        assert field.description, name
    assert TokenizerConfig().vocab_size == 8192
