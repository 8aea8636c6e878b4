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
from tests.flows.test_servers import _jsonl

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


@pytest.mark.slow
def test_deploy_trigger_and_worker_run(tmp_path):
    data = tmp_path / "docs.jsonl"
    _jsonl(data)
    with prefect_server(tmp_path) as api:
        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path),
               "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        dep = subprocess.run([ZEROLLM, "deploy", "--workdir", str(tmp_path / "w"), "--name", "nightly",
                              "--cron", "0 2 * * *", "--until", "dedup",
                              "--set", f"collect.sources=[{{type: jsonl, path: {data}, id_key: id}}]",
                              "--set", "filter.enabled=false", "--set", "name=deployed"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert dep.returncode == 0, dep.stderr[-3000:]
        assert "zerollm-pipeline/nightly" in dep.stdout

        async def trigger_and_wait(worker_started) -> tuple:
            from prefect.client.orchestration import get_client
            from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
            from prefect.client.schemas.sorting import TaskRunSort
            from prefect.deployments import run_deployment

            async with get_client() as client:
                d = await client.read_deployment_by_name("zerollm-pipeline/nightly")
                assert [s.schedule.cron for s in d.schedules] == ["0 2 * * *"]
                fr = await run_deployment("zerollm-pipeline/nightly", timeout=0, client=client)
                worker_started()
                deadline = time.time() + 420
                while True:
                    fr = await client.read_flow_run(fr.id)
                    if fr.state and fr.state.is_final():
                        break
                    assert time.time() < deadline, f"flow run still {fr.state.name if fr.state else None}"
                    await asyncio.sleep(2)
                tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[fr.id])),
                                                    sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=50)
                from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

                arts = await client.read_artifacts(artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[fr.id])))
                return fr, tasks, arts

        worker = {}

        def start_worker():
            worker["proc"] = subprocess.Popen([ZEROLLM, "worker"], cwd=tmp_path, env=env,
                                              stdout=open(tmp_path / "worker.log", "wb"), stderr=subprocess.STDOUT,
                                              start_new_session=True)

        from prefect.settings import PREFECT_API_URL, temporary_settings

        try:
            with temporary_settings(updates={PREFECT_API_URL: api}):  # settings are read once per process
                fr, tasks, arts = asyncio.run(trigger_and_wait(start_worker))
        finally:
            if "proc" in worker:
                worker["proc"].terminate()
                worker["proc"].wait(timeout=30)
        log = (tmp_path / "worker.log").read_text()[-3000:]
        assert fr.state.is_completed(), f"{fr.state}\n{log}"
        assert fr.name.startswith("deployed ")
        assert sorted(t.name.split(" ")[0] for t in tasks) == sorted(["collect", "filter", "dedup"]), log
        rec = json.loads((tmp_path / "w" / "runs" / "latest.json").read_text())
        report = next(a for a in arts if a.key == "zerollm-report")
        html = (tmp_path / "w").resolve() / rec["report"]
        assert html.as_uri() in report.data and html.is_file()
        assert rec["prefect"]["flow_run_url"] == f"{api.removesuffix('/api')}/runs/flow-run/{fr.id}"
