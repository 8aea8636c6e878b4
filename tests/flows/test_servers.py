"""Against real servers on 127.0.0.1: the flow run and one task run per stage read back through the
Prefect client, and the MLflow run tree read back through the MLflow client. The first run is the
plain runner (`python -m zerollm run`, no Prefect), the second the Prefect flow: one runner, two
executors, so the flow finds every stage already built under the same keys."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.flows.servers import mlflow_server, prefect_server

pytestmark = pytest.mark.slow
STAGES = ["collect", "filter", "dedup"]


def _jsonl(path: Path) -> None:
    import json

    text = ("The river town keeps a lantern by the gate, and every evening the keeper lights it before "
            "the boats come home. Children wait on the bridge to count the lights on the water. ")
    with open(path, "w") as f:
        for i in range(40):
            f.write(json.dumps({"id": f"d{i}", "text": f"Story {i}. " + text * 3 + f" The end of story {i}."}) + "\n")


def test_pipeline_against_prefect_and_mlflow_servers(tmp_path):
    data = tmp_path / "docs.jsonl"
    _jsonl(data)
    with prefect_server(tmp_path) as api, mlflow_server(tmp_path) as mlflow_uri:
        env = {**os.environ, "PREFECT_API_URL": api, "MLFLOW_TRACKING_URI": mlflow_uri,
               "PREFECT_HOME": str(tmp_path)}
        args = ["run", "--workdir", str(tmp_path / "w"), "--until", "dedup",
                "--set", f"collect.sources=[{{type: jsonl, path: {data}, id_key: id}}]",
                "--set", "filter.enabled=false", "--set", "name=server-test"]
        for cmd in ([sys.executable, "-m", "zerollm"], [str(Path(sys.executable).with_name("zerollm"))]):
            proc = subprocess.run([*cmd, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr[-4000:]

        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api}):  # settings are read once per process
            flow_runs, task_runs, artifacts = asyncio.run(_read_prefect())
        assert len(flow_runs) == 1 and flow_runs[0].state.is_completed()  # the plain runner has none
        latest = flow_runs[0]
        states = {t.name.split(" ")[0]: t.state.name for t in task_runs if t.flow_run_id == latest.id}
        assert states == {s: "Cached" for s in STAGES}  # built by the plain runner, under the flow's keys
        # one artifact per stage and run (the metrics table and a link to the stage's MLflow run), and the report
        latest_arts = [a for a in artifacts if a.flow_run_id == latest.id]
        assert sorted(a.key for a in latest_arts) == sorted([f"zerollm-{s}" for s in STAGES] + ["zerollm-report"])
        dedup_art = next(a for a in latest_arts if a.key == "zerollm-dedup")
        assert "| docs_out |" in dedup_art.data and f"[MLflow run]({mlflow_uri}/#/experiments/" in dedup_art.data

        from mlflow.tracking import MlflowClient

        client = MlflowClient(mlflow_uri)
        exp = client.get_experiment_by_name("zerollm")
        runs = client.search_runs([exp.experiment_id])
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        assert len(parents) == 2 and {p.data.tags["mlflow.runName"] for p in parents} == {"server-test"}
        for p in parents:
            kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == p.info.run_id]
            assert sorted(k.data.tags["zerollm.stage"] for k in kids) == sorted(STAGES)
        assert sorted(p.data.tags.get("prefect_flow_run_id", "") for p in parents) == ["", str(latest.id)]
        hits = [r for r in runs if r.data.tags.get("cache_hit") == "true"]
        assert len(hits) == 3


async def _read_prefect():
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import ArtifactSort, FlowRunSort, TaskRunSort

    async with get_client() as client:
        flow_runs = await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=50)
        task_runs = await client.read_task_runs(sort=TaskRunSort.EXPECTED_START_TIME_DESC, limit=200)
        artifacts = await client.read_artifacts(sort=ArtifactSort.CREATED_DESC, limit=200)
    return flow_runs, task_runs, artifacts


def test_zerollm_ui_on_other_ports_then_sigterm_stops_both(tmp_path):
    """The UI page must be told where the API is (/ui-settings), and SIGTERM must not orphan servers."""
    import json
    import signal
    import time
    import urllib.request

    import psutil

    from tests.flows.servers import free_port

    pp, mp = free_port(), free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("zerollm")), "ui", "-w", str(tmp_path / "w"),
                             "--prefect-port", str(pp), "--mlflow-port", str(mp)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.time() + 180
        while not any(ln.startswith("ready") for ln in lines):
            assert proc.poll() is None and time.time() < deadline, "".join(lines)
            lines.append(proc.stdout.readline())
        with urllib.request.urlopen(f"http://127.0.0.1:{pp}/ui-settings", timeout=5) as r:
            assert json.load(r)["api_url"] == f"http://127.0.0.1:{pp}/api"
        with urllib.request.urlopen(f"http://127.0.0.1:{pp}/api/health", timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{mp}/health", timeout=5) as r:
            assert r.status == 200
        kids = psutil.Process(proc.pid).children(recursive=True)
        assert len(kids) >= 2
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        gone, alive = psutil.wait_procs(kids, timeout=30)
        assert not alive, [k.cmdline()[:4] for k in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
