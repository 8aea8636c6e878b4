"""Where documents went: each data stage's losses by reason, and the config key that tunes each.

A filter tuned for web text can silently drop most of another kind of corpus (Gopher's "80 % of words
hold a letter" rule removes most technical documentation): when a stage loses more than half of its
input, the run says so in one line, and the report shows it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

WARN_SHARE = 0.5

# datatrove's drop reasons -> the filter step parameter that decides them
_FILTER_PARAMS = {
    "gopher_short_doc": "min_doc_words", "gopher_long_doc": "max_doc_words",
    "gopher_below_avg_threshold": "min_avg_word_length", "gopher_above_avg_threshold": "max_avg_word_length",
    "gopher_too_many_hashes": "max_symbol_word_ratio", "gopher_too_many_ellipsis": "max_symbol_word_ratio",
    "gopher_too_many_bullets": "max_bullet_lines_ratio", "gopher_too_many_end_ellipsis": "max_ellipsis_lines_ratio",
    "gopher_below_alpha_threshold": "max_non_alpha_words_ratio", "gopher_enough_stop_words": "min_stop_words",
    "dup_para_frac": "dup_para_frac", "dup_para_char_frac": "dup_para_char_frac", "dup_line_frac": "dup_line_frac",
    "dup_line_char_frac": "dup_line_char_frac", "lorem_ipsum": "filter_lorem_ipsum",
    "curly_bracket": "filter_curly_bracket", "too_few_sentences": "min_num_sentences",
    "line_punct_ratio": "line_punct_thr", "short_line_ratio": "short_line_thr",
    "char_dup_ratio": "char_duplicates_ratio", "list_ratio": "new_line_ratio",
}
_COLLECT_KEYS = {"empty": "collect.min_doc_chars", "too_large": "collect.max_doc_bytes",
                 "missing_text": "collect.sources[].text_key", "duplicate_id": "collect.sources[].id_key"}
_DEDUP = {"exact": ("exact duplicates", "dedup.exact"), "minhash": ("near duplicates", "dedup.threshold"),
          "decontam": ("contains an evaluation item", "dedup.decontaminate.threshold")}


@dataclass
class Reason:
    reason: str
    count: int
    key: str  # the config key that tunes it
    step: str = ""


@dataclass
class StageLoss:
    stage: str
    docs_in: int
    docs_out: int
    reasons: list[Reason]  # largest first
    hint: str = ""

    @property
    def share(self) -> float:
        return (self.docs_in - self.docs_out) / self.docs_in if self.docs_in else 0.0

    def line(self) -> str:
        top = self.reasons[0] if self.reasons else Reason("unknown", self.docs_in - self.docs_out, f"{self.stage}.*")
        where = f"{top.step}: " if top.step else ""
        return (f"warning: {self.stage} dropped {self.share:.0%} of its input ({self.docs_in - self.docs_out:,} of "
                f"{self.docs_in:,} documents); top reason: {where}{top.reason} ({top.count:,}); tune {top.key}"
                + (f" {self.hint}" if self.hint else ""))


def filter_step(stats_name: str) -> str:
    """`🔻 - FILTER: gopher_quality` -> `gopher_quality`; the language-ID step -> `langid`."""
    name = stats_name.split("FILTER:", 1)[-1].strip()
    return "langid" if "LangId" in name else name


def _filter_key(step: str, reason: str) -> str:
    if step == "langid":
        return "filter.langid.min_score" if reason == "language_score" else "filter.langid.keep"
    param = _FILTER_PARAMS.get(reason)
    if param is None:
        m = re.fullmatch(r"top_\d+_gram|duplicated_\d+_n_grams", reason)
        param = ("top_n_grams" if reason.startswith("top_") else "dup_n_grams") if m else None
    return f"filter.{step}.params.{param}" if param else f"filter.{step}"


def stage_loss(stage: str, metrics: dict, stage_dir: Path | None, config: dict | None = None) -> StageLoss | None:
    """A data stage's losses (collect, filter, dedup); None for other stages or without counts."""
    docs_in, docs_out = metrics.get("docs_in"), metrics.get("docs_out")
    if docs_in is None or docs_out is None:
        return None
    reasons: list[Reason] = []
    hint = ""
    if stage == "collect":
        reasons = [Reason(k[9:], int(v), _COLLECT_KEYS.get(k[9:], "collect.sources"))
                   for k, v in metrics.items() if k.startswith("rejected_") and v]
    elif stage == "filter":
        counts = {}
        path = Path(stage_dir or "") / "drop_counts.json"
        if stage_dir is not None and path.is_file():
            counts = json.loads(path.read_text(encoding="utf-8"))
        for name, values in counts.items():
            step = filter_step(name)
            reasons += [Reason(k[8:], int(v), _filter_key(step, k[8:]), step)
                        for k, v in values.items() if k.startswith("dropped_") and v]
        if ((config or {}).get("filter") or {}).get("preset", "web") == "web":
            hint = "(or filter.preset: docs for technical, code-bearing text)"
    elif stage == "dedup":
        reasons = [Reason(label, int(metrics.get(f"{k}_removed", 0)), key) for k, (label, key) in _DEDUP.items()
                   if metrics.get(f"{k}_removed")]
    else:
        return None
    reasons.sort(key=lambda r: -r.count)
    return StageLoss(stage, int(docs_in), int(docs_out), reasons, hint)


def run_losses(record: dict) -> list[StageLoss]:
    """Each data stage of a run record, in order."""
    out = []
    for s in record.get("stages", []):
        loss = stage_loss(s["stage"], s.get("metrics") or {}, Path(s["dir"]), record.get("config"))
        if loss is not None:
            out.append(loss)
    return out


def warnings(record: dict, share: float = WARN_SHARE) -> list[str]:
    """One line per stage of the run that lost more than `share` of its input."""
    return [loss.line() for loss in run_losses(record) if loss.share > share]
