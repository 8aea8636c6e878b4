"""Scheduled runs: `zerollm deploy` against a real Prefect server, a run triggered through the API, and
`zerollm worker` executing it."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.flows.servers import prefect_server

ZEROLLM = str(Path(sys.executable).with_name("zerollm"))


def test_prefect_yaml_describes_the_deployment():
    from flows.deploy import FLOW_ENTRYPOINT, POOL

    import inspect

    from flows.pipeline import pipeline
    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig

    doc = yaml.safe_load((REPO / "prefect.yaml").read_text())
    nightly, incremental = doc["deployments"]
    for dep in (nightly, incremental):
        assert dep["entrypoint"] == FLOW_ENTRYPOINT and (REPO / FLOW_ENTRYPOINT.split(":")[0]).is_file()
        assert dep["work_pool"]["name"] == POOL
        assert set(dep["parameters"]) <= set(inspect.signature(pipeline.fn).parameters)
    assert nightly["schedules"][0]["cron"] == "0 2 * * *"
    # the watched inbox: its files are optional sources, and the model continues once there is one
    assert incremental["schedules"][0]["interval"] == 900
    p = incremental["parameters"]
    cfg = load_config(PipelineConfig, REPO / p["config_file"], p["overrides"])
    inbox = [s for s in cfg.collect.sources if getattr(s, "optional", False)]
    assert [s.path for s in inbox] == ["inbox/*.txt", "inbox/*.jsonl"] and cfg.pretrain.init == "auto"


def _run_and_wait(api: str, deployment: str, worker: dict, start_worker) -> tuple:
    """Trigger the deployment through the API, start the worker once, wait for the flow run to end; returns the
    flow run, its task runs and its artifacts."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def go():
        async with get_client() as client:
            fr = await run_deployment(deployment, timeout=0, client=client)
            if "proc" not in worker:
                start_worker()
            deadline = time.time() + 420
            while True:
                fr = await client.read_flow_run(fr.id)
                if fr.state and fr.state.is_final():
                    break
                assert time.time() < deadline, f"flow run still {fr.state.name if fr.state else None}"
                await asyncio.sleep(2)
            runs = FlowRunFilter(id=FlowRunFilterId(any_=[fr.id]))
            tasks = await client.read_task_runs(flow_run_filter=runs, sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                                                limit=50)
            arts = await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[fr.id])))
            return fr, tasks, arts

    with temporary_settings(updates={PREFECT_API_URL: api}):  # settings are read once per process
        return asyncio.run(go())


@pytest.mark.slow
def test_a_watched_folder_deployment_takes_in_only_what_arrived(tmp_path):
    """`zerollm deploy --watch`: a real Prefect server and worker; a file dropped into the folder is the only new
    data work, the model continues and is promoted or refused; with nothing new, everything is reused."""
    from mlflow.tracking import MlflowClient

    from tests.dedup.prose import distinct_paragraphs
    from tests.flows.test_pipeline_e2e import FAST

    inbox, work = tmp_path / "inbox", tmp_path / "w"
    paragraphs = distinct_paragraphs()
    (tmp_path / "inbox").mkdir()
    (inbox / "a.txt").write_text("\n\n".join(paragraphs[:40]))
    with prefect_server(tmp_path) as api:
        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path),
               "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        dep = subprocess.run([ZEROLLM, "deploy", "--config", "configs/tiny.yaml", "--workdir", str(work),
                              "--name", "incremental", "--watch",
                              str(inbox), "--every", "3600", *FAST, "--set=filter.preset=docs", "--set=name=inbox",
                              f"--set=tracking.uri=sqlite:///{work}/mlflow.db"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert dep.returncode == 0, dep.stderr[-3000:]
        assert "zerollm-pipeline/incremental" in dep.stdout and "every 3600 s" in dep.stdout
        worker: dict = {}

        def start_worker():
            worker["proc"] = subprocess.Popen([ZEROLLM, "worker"], cwd=tmp_path, env=env,
                                              stdout=open(tmp_path / "worker.log", "wb"), stderr=subprocess.STDOUT,
                                              start_new_session=True)

        def trigger() -> tuple:
            fr, tasks, arts = _run_and_wait(api, "zerollm-pipeline/incremental", worker, start_worker)
            log = (tmp_path / "worker.log").read_text()[-3000:]
            assert fr.state.is_completed(), f"{fr.state}\n{log}"
            rec = json.loads((work / "runs" / "latest.json").read_text())
            return fr, {t.name.split(" ")[0] for t in tasks}, {a.key for a in arts}, rec

        try:
            first = trigger()
            (inbox / "b.txt").write_text("\n\n".join(paragraphs[40:140]))
            fr, _, arts, rec = trigger()
            nothing_new = trigger()
        finally:
            if "proc" in worker:
                worker["proc"].terminate()
                worker["proc"].wait(timeout=30)

    stages = {s["stage"]: s for s in rec["stages"]}
    assert first[3]["gate"]["version"] == "1" and not any(s["cache_hit"] for s in first[3]["stages"])
    # the second run: every key changed, but only b.txt was read and only its shards were new work
    assert stages["collect"]["metrics"]["files_read"] == 1 and stages["collect"]["metrics"]["files"] == 3
    assert stages["dedup"]["metrics"]["shards_signed"] == stages["dedup"]["metrics"]["shards_new"] > 0
    assert stages["dedup"]["metrics"]["shards_signed"] < stages["dedup"]["metrics"]["shards"]
    assert stages["tokenizer"]["metrics"]["train_seconds"] == 0  # the parent's tokenizer is kept
    assert stages["pretrain"]["metrics"]["continue_new_tokens"] > 0
    # a new version, promoted or refused, said the same way in the flow run's state, the artifact and MLflow
    gate = rec["gate"]
    assert gate["version"] == "2" and "zerollm-gate" in arts
    assert fr.state.name == ("Completed" if gate["passed"] else "Not promoted")
    if not gate["passed"]:
        assert fr.state.message == gate["line"] and gate["line"].startswith("not promoted: ")
    mv = MlflowClient(tracking_uri=f"sqlite:///{work}/mlflow.db").get_model_version("zerollm-chat", "2")
    assert mv.tags["lineage.init"] == "continue" and mv.tags["lineage.parent_version"] == "1"
    parent = next(s for s in first[3]["stages"] if s["stage"] == "pretrain")
    assert mv.tags["lineage.parent_pretrain_key"] == parent["key"]
    # the run report, linked from a Prefect artifact, and the flow run in the record
    assert "zerollm-report" in arts and (work / rec["report"]).is_file()
    assert rec["prefect"]["flow_run_url"] == f"{api.removesuffix('/api')}/runs/flow-run/{fr.id}"
    # nothing new: every stage reused, no new version
    assert all(s["cache_hit"] for s in nothing_new[3]["stages"]) and "gate" not in nothing_new[3]
    assert nothing_new[0].state.name == "Completed"
