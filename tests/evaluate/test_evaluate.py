"""evaluate on the tiny run: one lm-eval suite over the HF checkpoints and the GGUF files, the table,
the registry and the quantization gate."""

import json
from pathlib import Path

from mlflow.tracking import MlflowClient

from tests.conftest import tiny_config, tracked
from tests.webhook import webhook_receiver
from zerollm.evaluate import gate
from zerollm.runner import run_pipeline

MODELS = ["pretrain", "sft", "rlhf", "gguf:F16", "gguf:Q8_0", "gguf:Q4_K_M"]


def table(stage_dir):
    return json.loads((stage_dir / "eval_table.json").read_text())


def cell(rows, model, task, metric):
    return next(r for r in rows if r["model"] == model and r["task"] == task and r["metric"] == metric)


def test_table_covers_every_model_and_task(released):
    ev = released["evaluate"]
    rows = table(ev)
    assert list(dict.fromkeys(r["model"] for r in rows)) == MODELS
    for model in MODELS:
        mc = cell(rows, model, "qa_mc", "acc")
        assert 0 <= mc["value"] <= 1 and mc["stderr"] is not None and mc["items"] == 24
        assert 0 <= cell(rows, model, "qa_gen", "exact_match")["value"] <= 1
        assert cell(rows, model, "heldout_ppl", "bits_per_byte")["value"] > 0
    # the llama.cpp model class follows the HF backend's conventions: the F16 file scores like its source
    hf, f16 = (cell(rows, m, "heldout_ppl", "bits_per_byte")["value"] for m in ("rlhf", "gguf:F16"))
    assert abs(hf - f16) / hf < 0.01
    hf, f16 = (cell(rows, m, "qa_mc", "acc")["value"] for m in ("rlhf", "gguf:F16"))
    assert abs(hf - f16) <= 2 / 24
    md = (ev / "eval_table.md").read_text()
    assert "| qa_gen | exact_match |" in md and "gguf:Q8_0" in md
    assert (ev / "eval_chart.png").stat().st_size > 1000
    card = (ev / "release" / "model" / "README.md").read_text()
    assert "| qa_mc | acc |" in card and "| Q8_0 |" in card
    assert (ev / "release" / "gguf" / "Modelfile").is_file()
    assert (ev / "release" / "model" / "model.safetensors").is_file()


def test_contamination_counts_items_found_in_training(released):
    from zerollm.dedup.decontam import shingles
    from zerollm.evaluate.contamination import found_in_training, removed_docs

    m = json.loads((released["evaluate"] / "MANIFEST.json").read_text())["metrics"]
    assert 0 <= m["contaminated.qa_gen"] <= 24 and m["contaminated.qa_mc"] <= 24
    # the synthetic world plants quiz pages with eval questions and dedup removes them
    docs = removed_docs(released["dedup"])
    assert docs
    items = [{"question": "What kind of animal is Olive?"}, {"question": "Who painted the old blue lighthouse?"}]
    page = set(shingles("Quiz night! First: What kind of animal is Olive? The answer was hamster."))
    assert found_in_training(items, [page], 0.9) == 1
    assert found_in_training(items, [], 0.9) == 0


def test_registered_with_champion_alias(released):
    client = MlflowClient(tracking_uri=f"sqlite:///{released['work']}/mlflow.db")
    mv = client.get_model_version_by_alias("zerollm-chat", "champion")
    assert str(mv.version) == "1"
    assert mv.tags["gate"] == "passed" and mv.tags["serve_type"] == "Q8_0"
    assert {"score.qa_mc", "score.qa_gen", "score.heldout_ppl"} <= set(mv.tags)
    files = {f.path for f in client.list_artifacts(mv.run_id, "release/gguf")}
    assert {"release/gguf/model-Q8_0.gguf", "release/gguf/Modelfile"} <= files
    # lineage: the data it saw and where its weights came from
    pretrain = json.loads((released["pretrain"] / "MANIFEST.json").read_text())
    assert mv.tags["lineage.pretrain_key"] == pretrain["key"] and mv.tags["lineage.init"] == "scratch"
    assert len(mv.tags["lineage.data_snapshot"]) == 16 and int(mv.tags["lineage.shards"]) > 0
    assert mv.tags["lineage.parent_pretrain_key"] == ""
    snap = json.loads(Path(client.download_artifacts(mv.run_id, "release/data_snapshot.json")).read_text())
    assert snap["shards"] and len(snap["files"]) == int(mv.tags["lineage.source_files"])


def test_failing_gate_leaves_the_alias_and_says_why(released):
    work = released["work"]
    client = MlflowClient(tracking_uri=f"sqlite:///{work}/mlflow.db")
    champion = client.get_model_version_by_alias("zerollm-chat", "champion")
    # a champion that scores better than anything this tiny model can reach
    for task, value in (("qa_mc", 1.0), ("qa_gen", 1.0), ("heldout_ppl", 0.01)):
        client.set_model_version_tag("zerollm-chat", champion.version, f"score.{task}", str(value))
    with webhook_receiver() as (url, posted):
        outs = run_pipeline(tiny_config(*tracked(work), "quantize.serve_type=Q4_0", "quantize.max_regression=0",
                                        f"notify.webhook={url}"), work)
    ran = [o.stage for o in outs if not o.cache_hit]
    assert ran == ["quantize", "evaluate"]
    assert outs[-1].metrics["gate_passed"] == 0.0
    assert client.get_model_version_by_alias("zerollm-chat", "champion").version == champion.version
    new = str(int(outs[-1].metrics["registry_version"]))
    assert client.get_model_version("zerollm-chat", new).tags["gate"] == "failed"
    record = json.loads((work / "registry" / "last_gate.json").read_text())
    assert not record["passed"] and record["champion_after"] == str(champion.version)
    assert any(f.startswith(f"champion v{champion.version}: qa_mc acc") for f in record["failures"])
    # one line, in the gate record, the run record and the webhook's message
    assert record["line"].startswith("not promoted: qa multiple choice acc fell from 1.00 to ")
    assert record["line"].endswith(f"(tolerance 0%); champion stays v{champion.version}")
    run = json.loads((work / "runs" / "latest.json").read_text())
    assert run["gate"]["line"] == record["line"] and run["gate"]["passed"] is False
    assert [p["event"] for p in posted] == ["not_promoted"] and posted[0]["line"] == record["line"]
    assert posted[0]["champion_after"] == str(champion.version) and posted[0]["version"] == new
    params = client.get_run(run["mlflow_run_id"]).data.params if run.get("mlflow_run_id") else {}
    assert not any("s3cr3t" in str(v) for v in params.values())
    report = (work / run["report"]).read_text()
    assert "s3cr3t" not in report


def test_a_better_model_is_promoted_and_the_webhook_hears_it(released):
    work = released["work"]
    client = MlflowClient(tracking_uri=f"sqlite:///{work}/mlflow.db")
    champion = client.get_model_version_by_alias("zerollm-chat", "champion")
    for task, value in (("qa_mc", 0.0), ("qa_gen", 0.0), ("heldout_ppl", 99.0)):  # a champion easy to beat
        client.set_model_version_tag("zerollm-chat", champion.version, f"score.{task}", str(value))
    with webhook_receiver() as (url, posted):
        outs = run_pipeline(tiny_config(*tracked(work), "quantize.serve_type=Q4_0", "quantize.max_regression=0.5",
                                        f"notify.webhook={url}"), work)
    assert outs[-1].metrics["gate_passed"] == 1.0
    new = str(int(outs[-1].metrics["registry_version"]))
    assert str(client.get_model_version_by_alias("zerollm-chat", "champion").version) == new
    assert [p["event"] for p in posted] == ["promoted"]
    assert posted[0]["line"] == f"promoted: zerollm-chat v{new} is the new champion (was v{champion.version})"


def test_gate_rules():
    rows = gate.compare({"qa_mc": 0.80, "qa_gen": 0.40, "heldout_ppl": 0.31},
                        {"qa_mc": 0.82, "qa_gen": 0.40, "heldout_ppl": 0.30}, 0.02, "quant")
    assert [r["ok"] for r in rows] == [False, True, False]  # 0.80 < 0.82·0.98; 0.31 > 0.30·1.02
    rows = gate.compare({"qa_mc": 0.81, "heldout_ppl": 0.305}, {"qa_mc": 0.82, "heldout_ppl": 0.30}, 0.02, "quant")
    assert all(r["ok"] for r in rows) and gate.failures(rows) == []
