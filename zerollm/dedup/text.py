"""Word splitting shared by MinHash and decontamination: whitespace words for alphabetic scripts,
one word per CJK character, so Chinese documents get shingles of useful size."""

from __future__ import annotations

import regex
from datatrove.utils.word_tokenizers import WordTokenizer

_WORD = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]|[\p{L}\p{N}]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class MixedScriptTokenizer(WordTokenizer):
    """A datatrove WordTokenizer without spaCy: fast, language-agnostic, deterministic."""

    def __init__(self):
        super().__init__("mixed")

    def word_tokenize(self, text: str) -> list[str]:
        return words(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [s for s in regex.split(r"(?<=[.!?。！？])\s*", text) if s.strip()]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in regex.finditer(r"[^.!?。！？]+[.!?。！？]?", text)]
