"""A stage output whose manifest is corrupt or mistyped is not done: `plan` and the run's log say why it
reruns, and the rerun writes the same data. A stage that fails keeps its rejected inputs inspectable."""

import json
import logging

import pytest

from tests.faults.common import content
from zerollm.cache import verify
from zerollm.config import load_config
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import plan, run_pipeline

SETS = ["tracking.enabled=false", "collect.sources=[{type: synthetic, language: en, seed: 0, target_mb: 0.05}]"]


def _mistyped(text: str) -> str:
    data = json.loads(text)
    data["files"] = sorted(data["files"])  # a list where an object belongs
    return json.dumps(data)


@pytest.mark.parametrize("damage, reason", [
    (_mistyped, "output corrupt: manifest field 'files': expected an object, got list"),
    (lambda text: text[: len(text) // 2], "output corrupt: manifest is not valid JSON"),
], ids=["mistyped", "truncated"])
def test_a_damaged_manifest_reruns_the_stage_and_says_why(tmp_path, caplog, damage, reason):
    cfg = load_config(PipelineConfig, None, SETS)
    w = tmp_path / "w"
    run_pipeline(cfg, w, until="collect")
    [out] = [d for d in (w / "stages" / "collect").iterdir() if d.is_dir()]
    before = content(out)
    manifest = out / "MANIFEST.json"
    manifest.write_text(damage(manifest.read_text()))
    assert verify(out) is None

    [p] = plan(cfg, w, "collect")
    assert p.action == "run" and p.reasons[0].startswith(reason), p.reasons
    with caplog.at_level(logging.INFO, logger="zerollm"):
        [o] = run_pipeline(cfg, w, until="collect")
    assert not o.cache_hit and o.reasons[0].startswith(reason)
    assert any(reason in r.getMessage() and "running" in r.getMessage() for r in caplog.records), caplog.text
    assert verify(out) is not None and content(out) == before


def test_a_failed_collect_keeps_its_rejects(tmp_path):
    """Every line too short: collect fails, and says where its rejects are; they outlive its temporary folder."""
    src = tmp_path / "tiny.txt"
    src.write_text("a\n\nb\n\nc\n")
    cfg = load_config(PipelineConfig, None, [SETS[0], f"collect.sources=[{{type: text, path: '{src}', "
                                                       "split: paragraph}]",
                                             "collect.min_doc_chars=20"])
    with pytest.raises(Exception, match="no documents collected") as err:
        run_pipeline(cfg, tmp_path / "w", until="collect")
    kept = next((tmp_path / "w" / "stages" / "collect").glob("*.failed/rejects.jsonl"))
    assert str(kept) in str(err.value)
    rows = [json.loads(line) for line in kept.read_text().splitlines()]
    assert rows and all(r["reason"] == "empty" for r in rows), rows
    assert not list((tmp_path / "w" / "stages" / "collect").glob("*.tmp-*"))
