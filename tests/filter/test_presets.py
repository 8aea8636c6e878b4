"""filter.preset: `web` (datatrove's web-text rules) drops most of a technical-documentation corpus and
the run says so in one line; `docs` keeps most of it; `off` turns every step off. Settings given win
over a preset."""

import pytest

from tests.filter.techdocs import write_corpus
from tests.flows.test_pipeline_e2e import status, zerollm
from zerollm.config import ConfigError, load_config
from zerollm.filter.config import FilterConfig
from zerollm.pipeline_config import PipelineConfig


def test_preset_fills_defaults_and_explicit_settings_win():
    docs = FilterConfig.model_validate({"preset": "docs", "gopher_quality": {"params": {"min_doc_words": 20}}})
    assert docs.gopher_quality.params["max_non_alpha_words_ratio"] == 0.3
    assert docs.gopher_quality.params["min_doc_words"] == 20
    assert docs.c4_quality.params["filter_curly_bracket"] is False
    off = FilterConfig.model_validate({"preset": False})  # YAML reads a bare `off` as false
    assert off.preset == "off" and not off.langid.enabled and not off.gopher_quality.enabled
    assert FilterConfig().model_dump() == FilterConfig.model_validate({"preset": "web"}).model_dump()
    again = FilterConfig.model_validate(docs.model_dump(mode="json"))  # a run record's config, resumed
    assert again == docs
    with pytest.raises(ConfigError) as err:
        load_config(PipelineConfig, None, ["filter.preset=code"])
    assert str(err.value) == "config error: filter.preset: Input should be 'web', 'docs' or 'off' (got 'code')"


@pytest.mark.slow
def test_web_rules_drop_technical_docs_with_a_warning_and_docs_keeps_them(tmp_path):
    corpus = tmp_path / "numpy_docs.jsonl"
    n = write_corpus(corpus)
    assert n > 200
    w = tmp_path / "w"
    base = ["run", "--config", "configs/tiny.yaml", "--workdir", str(w), "--until", "filter",
            "--set", f"collect.sources=[{{type: jsonl, path: {corpus}, id_key: id}}]", "--set", "tracking.enabled=false"]

    web = zerollm(*base, fast=False)
    st = status(w)
    kept = st["filter"]["metrics"]["docs_out"] / st["filter"]["metrics"]["docs_in"]
    assert kept < 0.5
    lines = [ln for ln in web.stderr.splitlines() if ln.startswith("warning: filter dropped")]
    assert len(lines) == 1, web.stderr[-2000:]
    share = 1 - kept
    assert f"dropped {share:.0%} of its input" in lines[0]
    assert "top reason: gopher_quality: gopher_below_alpha_threshold" in lines[0]
    assert "tune filter.gopher_quality.params.max_non_alpha_words_ratio" in lines[0]
    assert "filter.preset: docs" in lines[0]

    docs = zerollm(*base, "--set", "filter.preset=docs", fast=False)
    st = status(w)
    assert st["collect"]["cache_hit"] and not st["filter"]["cache_hit"]
    assert st["filter"]["metrics"]["docs_out"] / st["filter"]["metrics"]["docs_in"] > 0.85
    assert "warning: filter dropped" not in docs.stderr
