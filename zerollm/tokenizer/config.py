"""tokenizer: how to train the sentencepiece model and how to split and shard the corpus.

Imports pydantic only: the config is read by `zerollm status` and the stage-key machinery, which
must not pay for sentencepiece or transformers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zerollm.config import StrictModel


class TokenizerConfig(StrictModel):
    vocab_size: int = Field(
        8192, ge=512, le=262144,
        description="Vocabulary size including 6 special ids and 256 byte pieces. Token shards are uint16 up to "
                    "65536, uint32 above. Too large for a small corpus fails with the largest size that fits.",
    )
    model_type: Literal["bpe", "unigram"] = Field(
        "bpe", description="sentencepiece algorithm: bpe (default, what llama.cpp's SPM tokenizer expects) or unigram.",
    )
    character_coverage: float = Field(
        0.9995, ge=0.98, le=1.0,
        description="Share of characters covered by single-character pieces; the rest go through byte fallback. "
                    "0.9995 keeps common Chinese characters; 1.0 for small alphabets.",
    )
    cjk_segmentation: Literal["words", "chars", "off"] = Field(
        "words", description="How pieces may grow inside Chinese text, which has no spaces to stop them: words "
                             "(pieces stay inside the words of jieba's dictionary; a name it lacks stays characters, "
                             "so a full name and its short form share pieces), chars (one piece per CJK character; "
                             "needs a vocabulary near the character count), off (sentencepiece alone: frequent "
                             "phrases fuse with the words around them, such as 最喜欢吃面条 as one piece). Only "
                             "training text is split; encoding stays plain sentencepiece, so Hugging Face and "
                             "llama.cpp tokenize the same.",
    )
    chat_role_pieces: bool = Field(
        False, description="Make the chat template's role words (system, user, assistant) one piece each, matched "
                           "wherever they stand. A corpus that never spells them (Chinese) otherwise leaves them as "
                           "byte pieces: 21 of a Chinese chat row's 44 tokens were the template's.",
    )
    byte_fallback: bool = Field(
        True, description="Encode characters outside the vocabulary as UTF-8 byte pieces instead of <unk> (lossless).",
    )
    split_digits: bool = Field(
        True, description="Every digit is its own piece (better arithmetic, no arbitrary number chunks).",
    )
    input_sentence_size: int = Field(
        2_000_000, ge=1000, le=100_000_000,
        description="Most training chunks (document pieces of up to max_sentence_length bytes) sentencepiece "
                    "samples, seeded. Memory grows with this times the average chunk size.",
    )
    max_sentence_length: int = Field(
        16384, ge=1024, le=1 << 20,
        description="Training text is fed as document chunks of at most this many UTF-8 bytes, cut at line ends "
                    "so that newlines (and '\\n\\n') can become pieces.",
    )
    val_fraction: float = Field(
        0.01, ge=0.0, le=0.5,
        description="Share of documents held out as the validation split, chosen by a hash of the doc id "
                    "(stable across reruns and corpus growth). Held-out docs are also kept out of tokenizer training.",
    )
    min_val_docs: int = Field(
        10, ge=1, le=1_000_000,
        description="At least this many validation docs (the smallest id hashes) for small corpora, "
                    "but never more than half of the corpus.",
    )
    num_workers: int = Field(
        2, ge=0, le=256,
        description="Processes tokenizing the shards (spawned); 0 or 1 tokenizes in this process.",
        json_schema_extra={"cache_key": False},  # the shards are byte-identical whatever the count
    )
    num_threads: int = Field(2, ge=1, le=256, description="Threads sentencepiece uses for training.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed for sentencepiece's sentence sampling.")
