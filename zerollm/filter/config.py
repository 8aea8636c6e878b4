"""filter: which datatrove steps run, for which languages, with which thresholds.

Each quality step names the languages it applies to; documents of other languages pass that step
untouched. That is what keeps Chinese text from being wiped out by English word heuristics (stop
words, average word length, terminal punctuation), while `per_language` re-tunes a step for a
language it does apply to.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import Field, model_validator

from zerollm.config import StrictModel

ZH_STOP_WORDS = ["的", "了", "是", "在", "和", "有", "我", "他", "她", "这", "一个", "也", "很", "就", "都", "说"]


class LangIdStep(StrictModel):
    enabled: bool = Field(True, description="Detect the language (py3langid, model shipped in the wheel, offline).")
    keep: list[str] = Field(["en", "zh"], description="ISO 639-1 codes to keep; other languages are dropped.")
    min_score: float = Field(0.5, ge=0, le=1, description="Minimum normalized probability of the detected language.")


class _Step(StrictModel):
    enabled: bool = Field(True, description="Run this step.")
    languages: list[str] = Field(["en"], description="Languages this step applies to; others pass through.")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="Keyword arguments for the datatrove filter (its own names).")
    per_language: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                                    description="Parameter overrides per language code.")


class GopherRepetitionStep(_Step):
    languages: list[str] = Field(["en", "zh"], description="Languages this step applies to; others pass through.")


class GopherQualityStep(_Step):
    languages: list[str] = Field(["en", "zh"], description="Languages this step applies to; others pass through.")
    per_language: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"zh": {"min_avg_word_length": 1, "max_avg_word_length": 6,
                                        "stop_words": ZH_STOP_WORDS, "min_stop_words": 2,
                                        "max_non_alpha_words_ratio": 0.7}},
        description="Parameter overrides per language (zh: jieba words are short, punctuation is a larger "
                    "share of tokens, Chinese stop words).")


class C4QualityStep(_Step):
    params: dict[str, Any] = Field(default_factory=lambda: {"filter_no_terminal_punct": False},
                                   description="C4QualityFilter arguments. Line-dropping is off by default so "
                                               "the filter drops documents, never edits them silently.")


class FineWebQualityStep(_Step):
    languages: list[str] = Field(["en", "zh"], description="Languages this step applies to; others pass through.")
    per_language: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"zh": {"short_line_length": 12}},
        description="Parameter overrides per language (zh: a line of 12 characters says as much as 30 in English).")


# Rule sets: `web` is datatrove's web-text defaults (FineWeb/Gopher/C4), made language-aware. Technical
# documentation trips them by design: code, `::`, `>>>`, tables and numbers make fewer than 80 % of its
# words hold a letter (Gopher), `{` drops a whole document (C4), and code lines neither end in punctuation
# nor run long (FineWeb). `docs` keeps such prose and still drops what is mostly symbols or numbers,
# too short, or repetitive; `off` passes everything. A preset fills in defaults only: whatever the config
# sets itself wins.
_DOCS_ZH = {"min_avg_word_length": 1, "max_avg_word_length": 6, "stop_words": ZH_STOP_WORDS, "min_stop_words": 2,
            "max_non_alpha_words_ratio": 0.3}
PRESETS: dict[str, dict] = {
    "web": {},
    "docs": {
        "gopher_quality": {"params": {"max_non_alpha_words_ratio": 0.3, "max_avg_word_length": 15,
                                      "max_symbol_word_ratio": 0.3},
                           "per_language": {"zh": _DOCS_ZH}},
        "gopher_repetition": {"params": {"dup_line_frac": 0.5, "dup_line_char_frac": 0.4,
                                         "top_n_grams": [[2, 0.3], [3, 0.27], [4, 0.24]],
                                         "dup_n_grams": [[5, 0.3], [6, 0.28], [7, 0.26], [8, 0.24], [9, 0.22],
                                                         [10, 0.2]]}},
        "c4_quality": {"params": {"filter_no_terminal_punct": False, "filter_curly_bracket": False,
                                  "filter_javascript": False, "filter_policy": False, "min_words_per_line": -1,
                                  "min_num_sentences": 1}},
        "fineweb_quality": {"params": {"line_punct_thr": 0.0, "short_line_thr": 0.95, "char_duplicates_ratio": 0.1,
                                       "new_line_ratio": 1.0}},
    },
    "off": {step: {"enabled": False} for step in ("langid", "gopher_repetition", "gopher_quality", "c4_quality",
                                                  "fineweb_quality")},
}


def _under(defaults: dict, given: dict) -> dict:
    """`given` over `defaults`, nested mappings merged key by key."""
    out = copy.deepcopy(defaults)
    for k, v in given.items():
        out[k] = _under(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class FilterConfig(StrictModel):
    preset: Literal["web", "docs", "off"] = Field(
        "web", description="Rule set: web (datatrove's web-text defaults), docs (technical and code-bearing prose), "
                           "off (no filtering). Settings given here override the preset's.")
    enabled: bool = Field(True, description="false: every document passes through unchanged.")
    default_language: str = Field("en", description="Language assumed when language ID is off.")
    word_tokenizer: Literal["spacy", "regex"] = Field(
        "spacy", description="How the quality steps split words and sentences: spacy (datatrove's choice per "
                             "language; jieba for Chinese) or regex (Unicode words, one per CJK character, no spaCy: "
                             "for machines that lack it, such as a bare GPU box).")
    langid: LangIdStep = Field(default_factory=LangIdStep)
    gopher_repetition: GopherRepetitionStep = Field(default_factory=GopherRepetitionStep)
    gopher_quality: GopherQualityStep = Field(default_factory=GopherQualityStep)
    c4_quality: C4QualityStep = Field(default_factory=C4QualityStep)
    fineweb_quality: FineWebQualityStep = Field(default_factory=FineWebQualityStep)
    workers: int = Field(2, ge=1, le=256, description="Parallel datatrove tasks (processes).",
                         json_schema_extra={"cache_key": False})
    examples_per_reason: int = Field(5, ge=0, description="Dropped documents kept per drop reason (for MLflow).")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is False:  # YAML reads a bare `off` as false
            data = {**data, "preset": "off"}
        if isinstance(data, dict) and data.get("preset", "web") in PRESETS:
            return _under(PRESETS[data.get("preset", "web")], data)
        return data  # an unknown preset: the field's own check names the allowed ones
