"""The stage contract: a stage defined here joins the pipeline by one registry entry, and gets config,
caching, tracking, the report and `zerollm stages`-style listings without touching anything else."""

import json

import pytest
from pydantic import Field

from zerollm.config import ConfigError, StrictModel, load_config
from zerollm.io.shards import read_docs
from zerollm.pipeline_config import pipeline_config
from zerollm.registry import STAGES
from zerollm.report.blocks import Para, Section
from zerollm.runner import plan, run_pipeline
from zerollm.stage import Stage, StageResult

SMALL = ["collect.sources=[{type: synthetic, language: en, seed: 5, target_mb: 0.05}]"]


class ToyConfig(StrictModel):
    """A toy stage: counts the collected documents and scales the count."""

    factor: int = Field(2, ge=1, description="What the count is multiplied by.")


def toy_run(cfg: ToyConfig, inputs, out_dir, ctx) -> StageResult:
    n = sum(1 for _ in read_docs(inputs["collect"] / "datasets" / "pretrain"))
    (out_dir / "count.json").write_text(json.dumps({"docs": n, "scaled": n * cfg.factor}))
    return StageResult(metrics={"docs": n, "scaled": n * cfg.factor}, artifacts=["count.json"])


def section(view) -> Section:  # this module is the toy's view: its part of the run report
    sec = Section("toy", "Toy")
    return sec.add(Para(f"toy counted {view.stage('toy').metrics.get('docs')} documents"))


TOY = Stage(name="toy", config=ToyConfig, run=toy_run, inputs=("collect",), reads="collect: pretraining shards",
            writes="count.json", view=__name__)
REGISTRY = STAGES.with_stage(TOY, after="collect")  # the one registry entry
ToyPipeline = pipeline_config(REGISTRY)


def test_a_stage_added_by_one_registry_entry_runs_cached_tracked_and_reported(tmp_path):
    import mlflow

    work = tmp_path / "w"
    cfg = load_config(ToyPipeline, None, [*SMALL, "toy.factor=3", "tracking.enabled=true"])
    assert ToyPipeline.model_fields["toy"].description.startswith("A toy stage")

    first = run_pipeline(cfg, work, until="toy")
    assert [(o.stage, o.cache_hit) for o in first] == [("collect", False), ("toy", False)]
    toy = first[1]
    assert toy.metrics["scaled"] == 3 * toy.metrics["docs"] > 0
    assert json.loads((work / toy.dir / "count.json").read_text())["scaled"] == toy.metrics["scaled"]
    assert (work / toy.dir / "MANIFEST.json").is_file() and toy.dir.startswith("stages/toy/")

    second = run_pipeline(cfg, work, until="toy")
    assert [o.cache_hit for o in second] == [True, True]
    assert second[1].built_by_run == toy.built_by_run and second[1].built_seconds == toy.built_seconds

    changed = plan(load_config(ToyPipeline, None, [*SMALL, "toy.factor=4", "tracking.enabled=true"]), work, "toy")
    assert [(p.stage, p.action) for p in changed] == [("collect", "reuse"), ("toy", "run")]
    assert changed[1].reasons == ["toy.factor: 3 → 4"]

    client = mlflow.MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("zerollm").experiment_id],
                              filter_string="tags.`zerollm.stage` = 'toy'")
    assert sorted(r.data.tags["cache_hit"] for r in runs) == ["false", "true"]
    assert all(r.data.metrics["scaled"] == toy.metrics["scaled"] for r in runs)

    report = (work / "reports").glob("*/report.md")
    texts = [p.read_text() for p in report]
    assert len(texts) == 2 and all(f"toy counted {toy.metrics['docs']} documents" in t for t in texts)


def test_the_toy_config_is_checked_like_any_other():
    with pytest.raises(ConfigError, match=r"toy\.factr: unknown key; allowed: factor"):
        load_config(ToyPipeline, None, ["toy.factr=3"])
    with pytest.raises(ConfigError, match=r"faults\.fail_once: .*unknown stage 'toyy'.*toy"):
        load_config(ToyPipeline, None, ["faults.fail_once=toyy"])


def test_derived_lists_follow_the_registry():
    assert REGISTRY.names[:2] == ("collect", "toy") and "toy" not in STAGES.names
    assert STAGES.model_stages == ("pretrain", "sft", "rlhf")
    assert STAGES.inputs("quantize") == ("tokenizer", "collect", "pretrain", "sft", "rlhf")
    assert STAGES.inputs("evaluate")[-1] == "quantize"
    with pytest.raises(ConfigError, match=r"quantize\.model: .*unknown model stage 'dedup'; allowed: auto, pretrain, "
                                          r"sft, rlhf"):
        load_config(ToyPipeline, None, ["quantize.model=dedup"])
    with pytest.raises(ConfigError, match=r"evaluate\.models\.0: .*allowed: pretrain, sft, rlhf"):
        load_config(ToyPipeline, None, ["evaluate.models=[toy]"])
