"""tokenizer stage: dedup shards -> sentencepiece model, HF tokenizer directory, token shards.

Three streaming passes over the dedup shards (ids for the split, text for training, text for the
shards), so memory stays flat whatever the corpus size. Validation docs are chosen by id hash
before training, so the tokenizer never sees the text it is measured on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from zerollm.io.shards import read_docs, shard_paths
from zerollm.stage import Stage, StageContext, StageResult
from zerollm.tokenizer.config import TokenizerConfig
from zerollm.tokenizer.export import agreement, export_hf
from zerollm.tokenizer.shards import doc_hash, tokenize_to_shards, val_cutoff
from zerollm.tokenizer.train import BOS_ID, CHAT_TOKENS, EOS_ID, PAD_ID, UNK_ID, train_sentencepiece, training_chunks

Config = TokenizerConfig

CHECK_DOCS, CHECK_CHARS = 500, 2_000_000  # val text re-encoded via tokenizer.json: HF ids == sentencepiece ids?
SAMPLE_DOCS = 5  # val docs shown as pieces in samples.txt


def run(cfg: TokenizerConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    shards = Path(inputs["dedup"]) / "shards"
    if not shard_paths(shards):
        raise ValueError(f"tokenizer: empty corpus: no *.jsonl.gz shards in {shards}")
    out_dir.mkdir(parents=True, exist_ok=True)

    cutoff = val_cutoff((doc_hash(_doc_id(d)) for d in read_docs(shards)), cfg.val_fraction, cfg.min_val_docs)

    ctx.log.info("training sentencepiece %s, vocab %d", cfg.model_type, cfg.vocab_size)
    t0 = time.perf_counter()
    train_text = (chunk for d in read_docs(shards) if doc_hash(_doc_id(d)) > cutoff
                  for chunk in training_chunks(d["text"], cfg.max_sentence_length))
    model = train_sentencepiece(train_text, cfg)
    train_seconds = time.perf_counter() - t0
    hf_dir = out_dir / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    model_file = hf_dir / "tokenizer.model"
    model_file.write_bytes(model)
    export_hf(model_file, hf_dir, cfg.model_type)

    ctx.log.info("tokenizing into token shards with %d worker(s)", cfg.num_workers)
    t0 = time.perf_counter()
    val_texts: list[str] = []

    def docs() -> Iterator[tuple[bool, str]]:
        kept = 0
        for d in read_docs(shards):
            is_val = doc_hash(_doc_id(d)) <= cutoff
            if is_val and len(val_texts) < CHECK_DOCS and kept < CHECK_CHARS:
                val_texts.append(d["text"])
                kept += len(d["text"])
            yield is_val, d["text"]

    stats = tokenize_to_shards(docs(), model_file, out_dir, cfg.vocab_size, EOS_ID, cfg.num_workers)
    tokenize_seconds = time.perf_counter() - t0

    hf_agree = agreement(hf_dir, model_file, val_texts)
    if hf_agree < 1.0:
        ctx.log.warning("HF tokenizer differs from sentencepiece on %.2f%% of checked val docs",
                        100 * (1 - hf_agree))
    (out_dir / "samples.txt").write_text(_samples(model_file, val_texts[:SAMPLE_DOCS]), encoding="utf-8")

    train, val = stats["train"], stats["val"]
    index = {
        "dtype": stats["dtype"],
        "vocab_size": cfg.vocab_size,
        "bos_id": BOS_ID,
        "eos_id": EOS_ID,
        "pad_id": PAD_ID,
        "unk_id": UNK_ID,
        "chat_token_ids": {t: 4 + i for i, t in enumerate(CHAT_TOKENS)},
        "separator": "eos",  # EOS after every document; nothing before it (no BOS)
        "files": {s: {"tokens": f"{s}.bin", "doc_starts": f"{s}.docs.npy"} for s in ("train", "val")},
        "train": train,
        "val": val,
    }
    (out_dir / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")

    val_text_tokens = val["tokens"] - val["docs"]
    metrics = {
        "train_seconds": train_seconds,
        "tokenize_seconds": tokenize_seconds,
        "bytes_per_token": val["bytes"] / val_text_tokens if val_text_tokens else 0.0,
        "vocab_used_frac": float((stats["token_counts"] > 0).sum()) / cfg.vocab_size,
        "train_tokens": float(train["tokens"]),
        "val_tokens": float(val["tokens"]),
        "train_docs": float(train["docs"]),
        "val_docs": float(val["docs"]),
        "vocab_size": float(cfg.vocab_size),
        "hf_sp_agreement": hf_agree,
    }
    ctx.log.info("tokenizer: %s", ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    return StageResult(
        metrics=metrics,
        artifacts=["hf/tokenizer_config.json", "hf/tokenizer.model", "index.json", "samples.txt"],
        summary={"index": index, "hf_dir": "hf"},
    )


def _doc_id(doc: dict) -> str:
    if "id" not in doc:
        raise ValueError(f"tokenizer: a document without 'id' in the dedup shards: {str(doc)[:200]}")
    return str(doc["id"])


def _samples(model_file: Path, texts: list[str], max_chars: int = 300) -> str:
    """A few val texts and their pieces, for eyeballing how the tokenizer cuts real text."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    blocks = []
    for text in texts:
        text = text[:max_chars]
        pieces = sp.encode(text, out_type=str)
        blocks.append(f"text   ({len(text.encode('utf-8'))} bytes): {text!r}\n"
                      f"pieces ({len(pieces)}): {' | '.join(pieces)}\n")
    return "\n".join(blocks)


STAGE = Stage(
    name="tokenizer", config=TokenizerConfig, run=run, inputs=("dedup",),
    reads="dedup: shards",
    writes="hf/ tokenizer directory (tokenizer.model + tokenizer.json, ChatML template), train.bin/val.bin + "
           "index.json",
    view="zerollm.tokenizer.view",
)
