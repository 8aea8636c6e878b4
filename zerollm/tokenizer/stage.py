"""tokenizer stage: dedup shards -> sentencepiece model, HF tokenizer directory, token shards.

Three streaming passes over the dedup shards (ids for the split, text for training, text for the
shards), so memory stays flat whatever the corpus size. Validation docs are chosen by id hash
before training, so the tokenizer never sees the text it is measured on.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from zerollm.cache import key_fields
from zerollm.io.shards import read_docs, shard_paths
from zerollm.lineage import NoParent, Parent, parent_for
from zerollm.stage import Stage, StageContext, StageResult
from zerollm.tokenizer.config import TokenizerConfig
from zerollm.tokenizer.export import agreement, export_hf
from zerollm.tokenizer.shards import SPLITS, assemble, doc_hash, tokenize_to_shards, unit_ranges, val_cutoff
from zerollm.units import input_hashes, link
from zerollm.tokenizer.train import BOS_ID, CHAT_TOKENS, EOS_ID, PAD_ID, UNK_ID, train_sentencepiece, training_chunks

Config = TokenizerConfig

CHECK_DOCS, CHECK_CHARS = 500, 2_000_000  # val text re-encoded via tokenizer.json: HF ids == sentencepiece ids?
SAMPLE_DOCS = 5  # val docs shown as pieces in samples.txt


def fingerprint(cfg: TokenizerConfig, ctx: StageContext) -> dict | None:
    """A continued lineage keeps its parent's tokenizer: which parent is part of the key."""
    try:
        parent = _parent(ctx)
    except NoParent:  # pretrain's check says why, before anything runs
        return {"parent_tokenizer": None}
    return {"parent_tokenizer": parent.tokenizer.name} if parent else None


def check(cfg: TokenizerConfig, pipeline, ctx: StageContext) -> list[str]:
    """In a continued lineage, the tokenizer config must be the parent's (the model's embedding rows are its
    vocabulary)."""
    try:
        parent = _parent(ctx)
    except NoParent:
        return []  # pretrain's check says it
    if parent is None:
        return []
    new, old = key_fields(cfg), parent.tokenizer_config
    return [f"tokenizer.{k}: {old.get(k)!r} → {v!r} under pretrain.init: {pipeline.pretrain.init}; a continued "
            f"model keeps its "
            f"parent's tokenizer; allowed: {old.get(k)!r} (or pretrain.init: scratch)"
            for k, v in new.items() if k in old and old[k] != v][:1]


def _parent(ctx: StageContext) -> Parent | None:
    pretrain = getattr(ctx.pipeline, "pretrain", None)
    if pretrain is None:
        return None
    return parent_for(pretrain.init, ctx.workdir, pretrain.parent, ctx.upstream.get("dedup"))


def run(cfg: TokenizerConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    shards = shard_paths(Path(inputs["dedup"]) / "shards")
    if not shards:
        raise ValueError(f"tokenizer: empty corpus: no *.jsonl.gz shards in {Path(inputs['dedup']) / 'shards'}")
    sha = input_hashes(inputs["dedup"], "shards")
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_dir = out_dir / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    model_file = hf_dir / "tokenizer.model"
    parent = _parent(ctx)
    train_seconds = 0.0
    if parent is None:
        cutoff = val_cutoff((doc_hash(_doc_id(d)) for d in read_docs(shards)), cfg.val_fraction, cfg.min_val_docs)
        ctx.log.info("training sentencepiece %s, vocab %d", cfg.model_type, cfg.vocab_size)
        t0 = time.perf_counter()
        train_text = (chunk for d in read_docs(shards) if doc_hash(_doc_id(d)) > cutoff
                      for chunk in training_chunks(d["text"], cfg.max_sentence_length))
        model_file.write_bytes(train_sentencepiece(train_text, cfg))
        train_seconds = time.perf_counter() - t0
        export_hf(model_file, hf_dir, cfg.model_type, cfg.chat_role_pieces)
        earlier: dict[str, dict] = {}
    else:  # the parent's vocabulary and split; its encoded shards are copied, only new text is encoded
        parent_index = parent.index()
        cutoff = parent_index["val_cutoff"]
        for f in (parent.tokenizer / "hf").iterdir():
            link(f, hf_dir / f.name)
        earlier = {u["shard"]: u for u in parent_index["units"]}
        ctx.log.info("tokenizer: keeping the tokenizer of %s", parent.tokenizer)

    todo = [p for p in shards if sha[p.name] not in earlier]
    ctx.log.info("tokenizing %d of %d shards with %d worker(s)", len(todo), len(shards), cfg.num_workers)
    t0 = time.perf_counter()
    val_texts: list[str] = []
    counts: list[dict] = []

    def docs() -> Iterator[tuple[bool, str]]:
        kept = 0
        for shard in todo:
            c = {s: {"docs": 0, "bytes": 0} for s in SPLITS}
            counts.append(c)
            for d in read_docs([shard]):
                is_val = doc_hash(_doc_id(d)) <= cutoff
                if is_val and len(val_texts) < CHECK_DOCS and kept < CHECK_CHARS:
                    val_texts.append(d["text"])
                    kept += len(d["text"])
                c["val" if is_val else "train"]["docs"] += 1
                c["val" if is_val else "train"]["bytes"] += len(d["text"].encode("utf-8"))
                yield is_val, d["text"]

    encoded = out_dir / "encoded" if earlier else out_dir
    encoded.mkdir(exist_ok=True)
    stats = tokenize_to_shards(docs(), model_file, encoded, cfg.vocab_size, EOS_ID, cfg.num_workers)
    units = unit_ranges(encoded, [sha[p.name] for p in todo], counts, stats["dtype"])
    if earlier:
        fresh = dict(zip((sha[p.name] for p in todo), units))
        parts = [(encoded, fresh[sha[p.name]]) if sha[p.name] in fresh else (parent.tokenizer, earlier[sha[p.name]])
                 for p in shards]
        units, stats = assemble(parts, out_dir, stats["dtype"], cfg.vocab_size)
        shutil.rmtree(encoded)
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
        "val_cutoff": cutoff,  # a continued lineage splits new docs as its parent did
        "units": units,  # per dedup shard (sha256): its docs' and tokens' ranges in each split
        "parent": os.path.relpath(parent.tokenizer, ctx.workdir) if parent else None,
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
        "shards": float(len(shards)),
        "shards_encoded": float(len(todo)),
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
    name="tokenizer", config=TokenizerConfig, run=run, inputs=("dedup",), fingerprint=fingerprint, check=check,
    reads="dedup: shards",
    writes="hf/ tokenizer directory (tokenizer.model + tokenizer.json, ChatML template), train.bin/val.bin + "
           "index.json",
    view="zerollm.tokenizer.view",
)
