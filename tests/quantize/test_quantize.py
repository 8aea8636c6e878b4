"""quantize on the tiny run: llama.cpp's converter and quantizer, every file checked against HF."""

import json
from pathlib import Path

import pytest

from tests.conftest import tiny_config
from zerollm.config import ConfigError


def manifest(stage_dir: Path) -> dict:
    return json.loads((stage_dir / "MANIFEST.json").read_text())


def test_gguf_files_modelfile_and_parity(released):
    q = released["quantize"]
    m = manifest(q)
    files = m["summary"]["files"]
    assert set(files) == {"F16", "Q8_0", "Q4_K_M"}
    for rel in files.values():
        head = (q / rel).read_bytes()[:4]
        assert head == b"GGUF", rel
    assert m["summary"]["serve_file"] == "gguf/model-Q8_0.gguf"
    modelfile = (q / "gguf" / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./model-Q8_0.gguf")
    metrics = m["metrics"]
    assert metrics["f16_top1"] >= 0.99  # the converter's file computes what the HF model computes
    assert abs(metrics["f16_ppl_delta_pct"]) < 0.1
    assert abs(metrics["q8_0_ppl_delta_pct"]) < 2
    for t in ("f16", "q8_0", "q4_k_m"):
        assert metrics[f"{t}_tokenize_match"] == 1.0  # special tokens included (chat-formatted lines)
        assert metrics[f"{t}_tok_per_s"] > 0
    rows = json.loads((q / "quant_table.json").read_text())
    assert [r["type"] for r in rows] == ["F16", "Q8_0", "Q4_K_M"]
    assert rows[0]["bpw"] > rows[1]["bpw"] > 8 > 0
    assert rows[2]["fallback_tensors"] > 0  # d_model 64: K-quant blocks of 256 do not fit, and the table says so
    assert "| Q8_0 |" in (q / "quant_table.md").read_text()


@pytest.mark.parametrize("override, message", [
    ("quantize.types=[Q3_K]", "quantize.types: Value error, unknown quant type 'Q3_K'; allowed: Q8_0, Q6_K"),
    ("quantize.serve_type=Q2", "quantize.serve_type: Value error, unknown serve type 'Q2'; allowed: F16, Q8_0"),
    ("quantize.model=base", "quantize.model: Value error, unknown model stage 'base'; allowed: auto, pretrain, sft, "
                            "rlhf"),
    ("evaluate.models=[quantize]", "evaluate.models.0: Value error, unknown model stage 'quantize'; allowed: pretrain"),
])
def test_bad_config_is_one_line(override, message):
    with pytest.raises(ConfigError) as err:
        tiny_config(override)
    assert message in str(err.value) and len(str(err.value).splitlines()) == 1


def test_serve_type_is_made_even_when_not_listed():
    cfg = tiny_config("quantize.types=[Q4_K_M]", "quantize.serve_type=Q4_0").quantize
    assert cfg.all_types() == ["Q4_K_M", "Q4_0"]
