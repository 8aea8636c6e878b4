"""Held-out text for the stages after training: the tokenizer stage's validation documents.

The tokenizer stage splits documents into train/val by a hash of their id, so the val documents
were never trained on. Quantize compares GGUF files with the HF model on them, and evaluate scores
perplexity on them; both read them here, as token ids and as decoded text.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def val_token_docs(tokenizer_dir: Path, limit: int, max_len: int) -> list[list[int]]:
    """Up to `limit` validation documents as token ids (separator dropped), each cut to `max_len`."""
    tokenizer_dir = Path(tokenizer_dir)
    index = json.loads((tokenizer_dir / "index.json").read_text(encoding="utf-8"))
    files = index["files"]["val"]
    tokens = np.memmap(tokenizer_dir / files["tokens"], dtype=np.dtype(index["dtype"]), mode="r")
    starts = np.load(tokenizer_dir / files["doc_starts"]).tolist() + [len(tokens)]
    drop = {index.get("eos_id"), index.get("bos_id"), index.get("pad_id")}
    docs = []
    for a, b in zip(starts, starts[1:]):
        ids = [int(t) for t in tokens[a:b] if int(t) not in drop]
        if len(ids) >= 2:
            docs.append(ids[:max_len])
        if len(docs) == limit:
            break
    return docs


def val_texts(tokenizer_dir: Path, tok, limit: int) -> list[str]:
    """Whole validation documents as text (decoded with the run's own tokenizer)."""
    docs = val_token_docs(tokenizer_dir, limit, max_len=1 << 30)
    return [t for t in (tok.decode(d, skip_special_tokens=True).strip() for d in docs) if t]
