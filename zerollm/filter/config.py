"""filter: which datatrove steps run, for which languages, with which thresholds.

Each quality step names the languages it applies to; documents of other languages pass that step
untouched. That is what keeps Chinese text from being wiped out by English word heuristics (stop
words, average word length, terminal punctuation), while `per_language` re-tunes a step for a
language it does apply to.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

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


class FilterConfig(StrictModel):
    enabled: bool = Field(True, description="false: every document passes through unchanged.")
    default_language: str = Field("en", description="Language assumed when language ID is off.")
    langid: LangIdStep = Field(default_factory=LangIdStep)
    gopher_repetition: GopherRepetitionStep = Field(default_factory=GopherRepetitionStep)
    gopher_quality: GopherQualityStep = Field(default_factory=GopherQualityStep)
    c4_quality: C4QualityStep = Field(default_factory=C4QualityStep)
    fineweb_quality: FineWebQualityStep = Field(default_factory=FineWebQualityStep)
    workers: int = Field(2, ge=1, le=256, description="Parallel datatrove tasks (processes).",
                         json_schema_extra={"cache_key": False})
    examples_per_reason: int = Field(5, ge=0, description="Dropped documents kept per drop reason (for MLflow).")
