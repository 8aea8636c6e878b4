import pytest

from zerollm.config import ConfigError, load_config
from zerollm.pipeline_config import PipelineConfig


def test_defaults_validate():
    cfg = load_config(PipelineConfig)
    assert cfg.collect.sources[0].type == "synthetic"


def test_set_parses_yaml_values(tmp_path):
    cfg = load_config(PipelineConfig, None, [
        "dedup.threshold=0.71",
        "collect.sources=[{type: jsonl, path: x.jsonl, text_key: body, id_key: uid}]",
        "filter.enabled=false",
    ])
    assert cfg.dedup.threshold == 0.71
    assert cfg.collect.sources[0].text_key == "body" and cfg.collect.sources[0].id_key == "uid"
    assert cfg.filter.enabled is False


@pytest.mark.parametrize("override, expect", [
    ("dedup.treshold=0.7", "config error: dedup.treshold: unknown key; allowed: "),
    ("dedup.threshold=2", "config error: dedup.threshold: Input should be less than or equal to 0.99"),
    ("dedup.threshold=abc", "config error: dedup.threshold: Input should be a valid number"),
    ("nosuchstage.x=1", "config error: nosuchstage: unknown key; allowed: collect, data, dedup"),
    ("collect.sources=[{type: csv, path: x}]", "config error: collect.sources.0"),
    ("collect.sources=[{type: jsonl, path: x, txt_key: t}]", "config error: collect.sources.0.txt_key: unknown key"),
])
def test_bad_config_is_one_line_naming_the_key(override, expect):
    with pytest.raises(ConfigError) as exc:
        load_config(PipelineConfig, None, [override])
    msg = str(exc.value)
    assert msg.startswith(expect), msg
    assert len(msg.splitlines()) == 1


def test_yaml_file_unknown_key(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("tokenizer:\n  vocab_sise: 100\n")
    with pytest.raises(ConfigError, match=r"tokenizer.vocab_sise: unknown key; allowed: .*vocab_size"):
        load_config(PipelineConfig, f)


def test_missing_file():
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(PipelineConfig, "nope.yaml")
