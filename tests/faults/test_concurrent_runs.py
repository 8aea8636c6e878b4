"""Three `zerollm run` started at the same moment on a new workdir, twice: every run finishes (the MLflow
and Prefect stores are created once, under a lock), each stage is built by one run and reused by the
others, under the keys a single run plans."""

import time

import pytest

from tests.conftest import REPO
from tests.faults.common import ARGS, DETERMINISTIC, UNTRACKED, content, finish, left_running, manifests, start
from zerollm.config import load_config
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import plan

pytestmark = pytest.mark.faults
STAGES = ["collect", "filter"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same stages, one run alone."""
    w = tmp_path_factory.mktemp("reference") / "w"
    finish(start(w, *ARGS, *UNTRACKED, "--until", STAGES[-1]))
    return manifests(w)


@pytest.mark.parametrize("attempt", [1, 2])
def test_three_runs_at_once_on_a_new_workdir(tmp_path, reference, attempt):
    w = tmp_path / "w"
    procs = [start(w, *ARGS, "--until", STAGES[-1], cli=True) for _ in range(3)]
    outs = [finish(p, timeout=600)[0] for p in procs]
    ran: dict[str, list[str]] = {}
    for out in outs:
        for line in out.splitlines():
            words = line.split()
            if len(words) > 1 and words[1] in STAGES and words[0] in ("ran", "cached"):
                ran.setdefault(words[1], []).append(words[0])
    for stage in STAGES:
        assert sorted(ran[stage]) == ["cached", "cached", "ran"], (stage, ran)  # built once, reused twice
    planned = {p.stage: p.key for p in plan(load_config(PipelineConfig, REPO / ARGS[1], ARGS[3::2]), w, STAGES[-1])}
    built = manifests(w)
    assert {s: d.name for s, d in built.items()} == planned
    for stage in set(STAGES) & set(DETERMINISTIC):
        assert content(built[stage]) == content(reference[stage]), stage
    for p in procs:
        assert left_running(p.token) == []

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{w / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("zerollm").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 3 and all(r.info.status == "FINISHED" for r in runs)
