"""Datatrove filter steps, made language-aware, plus an offline language-ID filter."""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from zerollm.filter.config import FilterConfig


class LangIdFilter(BaseFilter):
    """py3langid ships its model inside the wheel, so this works offline (datatrove's
    LanguageFilter downloads a fastText model at run time)."""

    name = "🌍 LangId (py3langid)"

    def __init__(self, keep: list[str], min_score: float, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.keep = set(keep)
        self.min_score = min_score
        self._identifier = None

    def filter(self, doc: Document):
        if self._identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        lang, score = self._identifier.classify(doc.text[:20000])
        doc.metadata["language"] = lang
        doc.metadata["language_score"] = round(float(score), 4)
        if lang not in self.keep:
            return False, "language"
        if score < self.min_score:
            return False, "language_score"
        return True


class PerLanguage(BaseFilter):
    """Routes each document to the instance of a filter built for its language; other languages pass."""

    def __init__(self, label: str, instances: dict, default_language: str, exclusion_writer=None):
        self.name = label  # before super().__init__, which names the step's stats
        super().__init__(exclusion_writer)
        self.instances = instances
        self.default_language = default_language

    def filter(self, doc: Document):
        lang = doc.metadata.get("language", self.default_language)
        inner = self.instances.get(lang)
        if inner is None:
            self.stat_update(f"passed_unchecked_{lang}")
            return True
        return inner.filter(doc)


def _classes():
    from datatrove.pipeline.filters import (
        C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    )

    return {
        "gopher_repetition": GopherRepetitionFilter,
        "gopher_quality": GopherQualityFilter,
        "c4_quality": C4QualityFilter,
        "fineweb_quality": FineWebQualityFilter,
    }


STEP_NAMES = ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality")


def word_tokenizer(lang: str, kind: str = "spacy"):
    """datatrove's table maps plain "zh" to a whitespace tokenizer (a Chinese doc becomes a handful of
    "words"); hand its filters spaCy's Chinese pipeline with jieba segmentation instead. `regex`: the
    spaCy-free tokenizer that dedup uses, for every language."""
    if kind == "regex":
        from zerollm.dedup.text import MixedScriptTokenizer

        return MixedScriptTokenizer()
    if lang == "zh":
        from datatrove.utils.word_tokenizers import SpaCyTokenizer

        return SpaCyTokenizer("zh")
    return lang


def build_steps(cfg: FilterConfig, exclusion_writer_for) -> list[BaseFilter]:
    """The ordered datatrove filters for `cfg`; `exclusion_writer_for(step)` gives each its reject writer."""
    steps: list[BaseFilter] = []
    if cfg.langid.enabled:
        steps.append(LangIdFilter(cfg.langid.keep, cfg.langid.min_score, exclusion_writer_for("langid")))
    classes = _classes()
    for name in STEP_NAMES:
        step = getattr(cfg, name)
        if not step.enabled or not step.languages:
            continue
        instances = {}
        for lang in step.languages:
            kwargs = {**step.params, **step.per_language.get(lang, {})}
            try:
                instances[lang] = classes[name](language=word_tokenizer(lang, cfg.word_tokenizer), **kwargs)
            except TypeError as exc:
                raise ValueError(f"filter.{name}.params: {exc}") from None
        steps.append(PerLanguage(name, instances, cfg.default_language, exclusion_writer_for(name)))
    return steps
