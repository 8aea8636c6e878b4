import json

import pytest

from zerollm.compare import RunNotFound, compare, list_runs, render, resolve
from zerollm.pipeline_config import PipelineConfig
from zerollm.records import RunRecord
from zerollm.runner import StageOutcome


def _config(**stage_overrides) -> dict:
    cfg = PipelineConfig().model_dump(mode="json")
    for dotted, value in stage_overrides.items():
        section, key = dotted.split("__")
        cfg[section][key] = value
    return cfg


def _save(workdir, run_id, started, config, outcomes, mlflow_run_id=None, status="completed"):
    """A record written by RunRecord's own add/save, with an id and start time the test chooses."""
    rec = RunRecord.__new__(RunRecord)
    rec.workdir, rec.id = workdir, run_id
    rec.data = {"run_id": run_id, "started": started, "status": "running", "mlflow_run_id": mlflow_run_id,
                "config": config, "stages": []}
    for o in outcomes:
        rec.add(o)
    rec.finish(status)
    return rec


def _out(stage, key, hit, metrics):
    return StageOutcome(stage, key, hit, 1.5, metrics, f"/w/{stage}/{key}", f"ml-{stage}-{key}", None)


@pytest.fixture
def workdir(tmp_path):
    # A: dedup.threshold 0.7, through tokenizer.  B: threshold 0.8, reuses collect/filter, reruns dedup onward,
    # adds pretrain.  C (oldest): a different name, only collect.  Saved out of start order on purpose.
    a = [_out("collect", "c1", False, {"docs_out": 354}), _out("filter", "f1", False, {"docs_out": 330}),
         _out("dedup", "d1", False, {"docs_out": 304, "docs_per_s": 206.1, "clusters": 12}),
         _out("tokenizer", "t1", False, {"bytes_per_token": 4.5, "vocab": "spm"})]
    b = [_out("collect", "c1", True, {"docs_out": 354}), _out("filter", "f1", True, {"docs_out": 330}),
         _out("dedup", "d2", False, {"docs_out": 310, "docs_per_s": 200.0, "gate_passed": True}),
         _out("tokenizer", "t2", False, {"bytes_per_token": 4.25, "vocab": "spm"}),
         _out("pretrain", "p2", False, {"train_loss": 6.2})]
    _save(tmp_path, "20260101-100000-aaaaaa", 2000.0, _config(dedup__threshold=0.7), a, "mlflow-parent-a")
    _save(tmp_path, "20260101-110000-bbbbbb", 3000.0, _config(dedup__threshold=0.8), b, "mlflow-parent-b")
    c = _config()
    c["name"] = "older"
    _save(tmp_path, "20251231-090000-cccccc", 1000.0, c, [_out("collect", "c0", False, {"docs_out": 1})])
    # noise that must be skipped: a save in progress and a broken file
    (tmp_path / "runs" / ".20260101-120000-dddddd.json.part").write_text("{", encoding="utf-8")
    (tmp_path / "runs" / "broken.json").write_text("{not json", encoding="utf-8")
    return tmp_path


def test_list_runs_orders_by_start_and_skips_noise(workdir, caplog):
    ids = [r["run_id"] for r in list_runs(workdir)]
    assert ids == ["20251231-090000-cccccc", "20260101-100000-aaaaaa", "20260101-110000-bbbbbb"]
    assert "broken.json" in caplog.text
    assert list_runs(workdir / "nowhere") == []


def test_resolve_refs(workdir):
    assert resolve(workdir, "latest")["run_id"] == "20260101-110000-bbbbbb"
    assert resolve(workdir, "latest~1")["run_id"] == "20260101-100000-aaaaaa"
    assert resolve(workdir, "latest~")["run_id"] == "20260101-100000-aaaaaa"
    assert resolve(workdir, "latest~2")["run_id"] == "20251231-090000-cccccc"
    assert resolve(workdir, "20260101-100000-aaaaaa")["started"] == 2000.0
    assert resolve(workdir, "20251231")["run_id"] == "20251231-090000-cccccc"  # unique prefix
    assert resolve(workdir, "mlflow-parent-b")["run_id"] == "20260101-110000-bbbbbb"


@pytest.mark.parametrize("ref, words", [
    ("latest~3", ["only 3 run(s)", "latest~2"]),
    ("20260101", ["ambiguous", "20260101-100000-aaaaaa", "20260101-110000-bbbbbb"]),
    ("nope", ["no such run", "latest~N", "20260101-110000-bbbbbb"]),
])
def test_resolve_errors_are_one_clear_line(workdir, ref, words):
    with pytest.raises(RunNotFound) as e:
        resolve(workdir, ref)
    msg = str(e.value)
    assert "\n" not in msg and isinstance(e.value, ValueError)
    for w in words:
        assert w in msg


def test_resolve_without_runs(tmp_path):
    with pytest.raises(RunNotFound, match="no runs in"):
        resolve(tmp_path, "latest")


def test_compare_stages_config_and_metrics(workdir):
    r = compare(workdir, "latest~1", "latest")
    assert (r["a"]["id"], r["b"]["id"]) == ("20260101-100000-aaaaaa", "20260101-110000-bbbbbb")
    assert r["a"]["mlflow_run_id"] == "mlflow-parent-a" and r["b"]["status"] == "completed"
    st = {s["stage"]: s for s in r["stages"]}
    assert [s["stage"] for s in r["stages"]] == ["collect", "filter", "dedup", "tokenizer", "pretrain"]
    assert st["collect"]["shared"] and st["collect"]["reused_by_b"] and st["filter"]["reused_by_b"]
    assert not st["dedup"]["shared"] and not st["dedup"]["reused_by_b"]
    assert (st["dedup"]["key_a"], st["dedup"]["key_b"]) == ("d1", "d2")
    assert st["dedup"]["config_diff"] == [{"key": "dedup.threshold", "a": 0.7, "b": 0.8}]
    assert st["collect"]["config_diff"] == [] and st["tokenizer"]["config_diff"] == []
    assert st["tokenizer"]["changed_inputs"] == ["dedup"] and st["dedup"]["changed_inputs"] == []
    m = {x["name"]: x for x in st["dedup"]["metrics"]}
    assert m["docs_out"] == {"name": "docs_out", "a": 304, "b": 310, "delta": 6}
    assert m["docs_per_s"]["delta"] == pytest.approx(-6.1)
    assert m["clusters"] == {"name": "clusters", "a": 12, "b": None, "delta": None}
    assert m["gate_passed"]["delta"] is None and m["gate_passed"]["b"] is True  # a flag, not a number
    tok = {x["name"]: x for x in st["tokenizer"]["metrics"]}
    assert tok["vocab"]["delta"] is None and tok["bytes_per_token"]["delta"] == pytest.approx(-0.25)
    assert st["pretrain"]["in_b"] and not st["pretrain"]["in_a"] and st["pretrain"]["key_a"] is None
    assert st["pretrain"]["metrics"] == [{"name": "train_loss", "a": None, "b": 6.2, "delta": None}]
    assert r["global_config_diff"] == []
    assert json.loads(json.dumps(r)) == r  # --json prints exactly this


def test_compare_global_diff_and_stage_only_in_a(workdir):
    r = compare(workdir, "latest", "20251231")
    assert r["global_config_diff"] == [{"key": "name", "a": "zerollm", "b": "older"}]
    st = {s["stage"]: s for s in r["stages"]}
    assert st["collect"]["in_a"] and st["collect"]["in_b"] and not st["collect"]["shared"]
    assert st["filter"]["in_a"] and not st["filter"]["in_b"] and st["filter"]["key_b"] is None


def test_config_key_missing_on_one_side_is_null(tmp_path):
    cfg_b = _config()
    cfg_b["dedup"]["new_knob"] = 3
    del cfg_b["dedup"]["seed"]
    _save(tmp_path, "run-a", 1.0, _config(), [_out("dedup", "d", False, {})])
    _save(tmp_path, "run-b", 2.0, cfg_b, [_out("dedup", "d", True, {})])
    diff = compare(tmp_path, "run-a", "run-b")["stages"][0]["config_diff"]
    assert {"key": "dedup.new_knob", "a": None, "b": 3} in diff
    assert {"key": "dedup.seed", "a": _config()["dedup"]["seed"], "b": None} in diff and len(diff) == 2


def test_render(workdir):
    text = render(compare(workdir, "latest~1", "latest"))
    assert "20260101-100000-aaaaaa" in text and "20260101-110000-bbbbbb" in text
    lines = text.splitlines()
    assert all(len(line) < 120 for line in lines)
    line = {ln.split()[0]: ln for ln in lines if ln and not ln.startswith(" ")}
    assert "shared" in line["collect"] and "reused" in line["collect"]
    assert "differs" in line["dedup"] and "config differs" in line["dedup"]
    assert "inputs differ: dedup" in line["tokenizer"] and "only in B" in line["pretrain"]
    assert "dedup.threshold: 0.7 -> 0.8" in text
    i = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["docs_out"] and "304" in ln)
    assert lines[i].split() == ["docs_out", "304", "310", "+6"]
    header = lines[i - 1]
    assert header.split() == ["metric", "A", "B", "delta"]
    assert header.index(" B ") + 2 == lines[i].index("310") + 3  # right-aligned columns
    assert "2 of 4 stage(s)" in text
    assert lines[0].startswith("A: 20260101-100000-aaaaaa  completed") and "mlflow mlflow-parent-a" in lines[0]


def test_render_caps_metrics_and_hides_unchanged_shared_ones(tmp_path):
    many = {f"m{i:02d}": float(i) for i in range(30)}
    _save(tmp_path, "run-a", 1.0, _config(), [_out("collect", "c", False, many), _out("filter", "f", False, many)])
    changed = {**many, "m29": 99.0}
    _save(tmp_path, "run-b", 2.0, _config(), [_out("collect", "c", True, many), _out("filter", "g", False, changed)])
    text = render(compare(tmp_path, "run-a", "run-b"), max_metrics=10)
    assert "(+20 more, see --json)" in text and text.count("more, see --json") == 1  # only filter has a table
    table = text.split("filter", 1)[1].splitlines()
    assert table[2].split() == ["m29", "29", "99", "+70"]  # what changed comes first
