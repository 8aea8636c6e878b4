"""How the run report shows filter: drops per datatrove step and reason, and the parameter that decides each."""

from __future__ import annotations

import json
import re
from pathlib import Path

from zerollm import drops

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


def losses(metrics: dict, stage_dir: Path | None, config: dict) -> drops.StageLoss | None:
    counts = {}
    path = Path(stage_dir or "") / "drop_counts.json"
    if stage_dir is not None and path.is_file():
        counts = json.loads(path.read_text(encoding="utf-8"))
    reasons = []
    for name, values in counts.items():
        step = filter_step(name)
        reasons += [drops.Reason(k[8:], int(v), _filter_key(step, k[8:]), step)
                    for k, v in values.items() if k.startswith("dropped_") and v]
    web = (config.get("filter") or {}).get("preset", "web") == "web"
    return drops.loss("filter", metrics, reasons,
                      "(or filter.preset: docs for technical, code-bearing text)" if web else "")


def examples(stage, limit: int) -> list[tuple[str, object, str]]:
    return [(f"{r.get('step')}: {r.get('reason')}", r.get("id"), r.get("text", ""))
            for r in stage.jsonl("dropped_examples.jsonl", 500)]
