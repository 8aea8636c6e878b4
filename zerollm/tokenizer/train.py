"""Train the sentencepiece model from an iterator of documents, in memory.

The settings are chosen so that the model is lossless and its Hugging Face translation tokenizes
identically: identity normalization, no dummy prefix, whitespace kept as is, byte fallback.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Iterator

from zerollm.tokenizer.config import TokenizerConfig

# Fixed ids: the token shards, the HF export and the GGUF export all rely on them.
UNK, BOS, EOS, PAD = "<unk>", "<s>", "</s>", "<|pad|>"
UNK_ID, BOS_ID, EOS_ID, PAD_ID = 0, 1, 2, 3
CHAT_TOKENS = ("<|im_start|>", "<|im_end|>")  # control symbols: ids 4 and 5, never produced from plain text
SPECIAL_TOKENS = (UNK, BOS, EOS, PAD) + CHAT_TOKENS
ROLE_WORDS = ("system", "user", "assistant")  # ChatML's roles, written as plain text after <|im_start|>

# Marks word boundaries in training text only: sentencepiece learns no piece across it and drops it
# (`pretokenization_delimiter`); a character no text is expected to hold (U+241F, SYMBOL FOR UNIT SEPARATOR).
WORD_BREAK = "\u241f"
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")
_TOO_SMALL = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


def training_chunks(text: str, max_bytes: int) -> Iterator[str]:
    """Split a document into pieces of at most `max_bytes` UTF-8 bytes, at line ends where possible.

    sentencepiece skips longer "sentences" entirely; whole lines would hide '\\n' from it (so a newline
    could only ever be a byte token), so lines are packed together, keeping their newlines.
    """
    if len(text) * 4 <= max_bytes or len(text.encode("utf-8")) <= max_bytes:
        yield text
        return
    buf: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if size + n > max_bytes and buf:
            yield "".join(buf)
            buf, size = [], 0
        if n > max_bytes:
            yield from _cut_bytes(line, max_bytes)
            continue
        buf.append(line)
        size += n
    if buf:
        yield "".join(buf)


def _cut_bytes(line: str, max_bytes: int) -> Iterator[str]:
    """Cut one over-long line into pieces of at most `max_bytes`, never inside a UTF-8 character."""
    data = line.encode("utf-8")
    start = 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # continuation byte: step back
            end -= 1
        yield data[start:end].decode("utf-8")
        start = end


def segment_cjk(text: str, mode: str) -> str:
    """Training text with word breaks inside and around each run of Chinese characters.

    Without them BPE fuses a sentence's frequent phrases into single pieces ("最喜欢吃面条"), so a
    fact's value is a different token in every sentence frame and in no question: the model cannot
    carry it from a story to an answer. `words` keeps pieces inside the words of jieba's dictionary
    (the segmenter the filters already use for Chinese) without its guessed words: a name the
    dictionary lacks stays characters, so 萧晨阳 and its short form 晨阳 share pieces (guessed, each
    was one unrelated piece). `chars` keeps pieces inside single characters. Other scripts are untouched.
    """
    if mode == "off" or not _HAN_RUN.search(text):
        return text

    def split(run: str) -> list[str]:
        return list(run) if mode == "chars" else _jieba().lcut(run, HMM=False)

    return _HAN_RUN.sub(lambda m: WORD_BREAK + WORD_BREAK.join(split(m.group())) + WORD_BREAK, text)


@functools.cache
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces its dictionary load at INFO
    return jieba


def train_sentencepiece(sentences: Iterable[str], cfg: TokenizerConfig) -> bytes:
    """Train on `sentences` and return the serialized model (the bytes of `tokenizer.model`).

    Raises ValueError, phrased in terms of `tokenizer.vocab_size`, when the corpus cannot fill the
    vocabulary or has more required characters than the vocabulary holds.
    """
    import sentencepiece as spm

    spm.set_random_generator_seed(cfg.seed)  # reservoir sampling when the corpus exceeds input_sentence_size
    # the breaks lengthen the text: cut again, or sentencepiece would skip a chunk that grew too long
    counted = _Counted(chunk for text in sentences
                       for chunk in training_chunks(segment_cjk(text, cfg.cjk_segmentation), cfg.max_sentence_length))
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(counted),
            model_writer=model,
            model_type=cfg.model_type,
            vocab_size=cfg.vocab_size,
            character_coverage=cfg.character_coverage,
            byte_fallback=cfg.byte_fallback,
            split_digits=cfg.split_digits,
            pretokenization_delimiter=WORD_BREAK if cfg.cjk_segmentation != "off" else "",
            # lossless and HF-equivalent: no normalization, no invented or removed spaces
            normalization_rule_name="identity",
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True,  # runs of spaces (code indentation) become pieces
            input_sentence_size=cfg.input_sentence_size,
            shuffle_input_sentence=True,
            max_sentence_length=cfg.max_sentence_length,
            num_threads=cfg.num_threads,
            unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID,
            unk_piece=UNK, bos_piece=BOS, eos_piece=EOS, pad_piece=PAD,
            control_symbols=list(CHAT_TOKENS),
            user_defined_symbols=list(ROLE_WORDS) if cfg.chat_role_pieces else [],
            hard_vocab_limit=True,
            minloglevel=2,  # sentencepiece logs every byte piece at INFO
        )
    except RuntimeError as exc:
        raise _vocab_error(exc, cfg, counted.n) from exc
    if counted.n == 0:
        raise ValueError("tokenizer: no training text (every document is empty or held out for validation)")
    return model.getvalue()


class _Counted:
    """Iterable that counts what sentencepiece consumed, to tell 'empty corpus' from other failures."""

    def __init__(self, items: Iterable[str]):
        self.items, self.n = items, 0

    def __iter__(self) -> Iterator[str]:
        for item in self.items:
            if item:
                self.n += 1
                yield item


def _vocab_error(exc: RuntimeError, cfg: TokenizerConfig, n_sentences: int) -> Exception:
    msg = str(exc)
    if n_sentences == 0:
        return ValueError("tokenizer: no training text (every document is empty or held out for validation)")
    if m := _TOO_HIGH.search(msg):
        return ValueError(
            f"config error: tokenizer.vocab_size: {cfg.vocab_size} is too large for this corpus "
            f"(sentencepiece can fill at most {m.group(2)}); set tokenizer.vocab_size <= {m.group(2)} "
            f"or add more text")
    if m := _TOO_SMALL.search(msg):
        return ValueError(
            f"config error: tokenizer.vocab_size: {cfg.vocab_size} is smaller than the {m.group(2)} pieces the "
            f"corpus requires (special, byte and character pieces); raise tokenizer.vocab_size or lower "
            f"tokenizer.character_coverage (now {cfg.character_coverage})")
    return ValueError(f"tokenizer: sentencepiece training failed: {msg}")
