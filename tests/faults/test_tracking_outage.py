"""The tracking server unreachable at the start (the run refuses within seconds, naming the URI) and
going down in the middle of a stage (the stage and the run finish; only tracking is lost)."""

import os
import signal
import sys
import time

import pytest

from tests.faults.common import ARGS, content, finish, left_running, manifests, start
from tests.flows.servers import free_port, server


@pytest.mark.parametrize("cli", [False, True], ids=["python -m zerollm", "zerollm CLI"])
def test_unreachable_at_the_start_fails_within_seconds_naming_the_uri(tmp_path, cli):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.time()
    proc = start(tmp_path / "w", *ARGS, cli=cli, env={"MLFLOW_TRACKING_URI": uri})
    _, err = proc.communicate(timeout=60)
    took = time.time() - t0
    assert proc.returncode == 2, err[-2000:]
    assert took < 30, took
    last = err.strip().splitlines()[-1]
    assert uri in last and "does not answer" in last and "tracking.enabled=false" in last, last
    assert not (tmp_path / "w" / "stages").exists()  # refused before any stage
    assert left_running(proc.token) == []  # the CLI's own Prefect server went with it


@pytest.mark.faults
def test_tracking_server_killed_in_the_middle_of_a_stage(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow-server.db'}",
           "--artifacts-destination", str(tmp_path / "mlflow-artifacts")]
    uri = f"http://127.0.0.1:{port}"
    w = tmp_path / "w"
    with server(cmd, f"{uri}/health", tmp_path / "mlflow-server.log", dict(os.environ), timeout=180) as mlflow_proc:
        proc = start(w, *ARGS, "--until", "dedup", env={"MLFLOW_TRACKING_URI": uri})
        while not list((w / "stages" / "filter").glob(f"*.tmp-{proc.pid}")):
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(0.02)
        os.killpg(mlflow_proc.pid, signal.SIGKILL)  # the server and its workers, mid-filter
        t_down = time.time()
        out, err = finish(proc, timeout=600)
    took = time.time() - t_down
    print(f"finished {took:.1f} s after the tracking server was killed")
    assert took < 180, "an outage must not stall the run for minutes"
    assert "not tracked; the run goes on" in err
    done = [line.split()[:2] for line in out.splitlines() if line.split()[1:2] in (["ran"], ["cached"])]
    assert done == [["collect", "ran"], ["filter", "ran"], ["dedup", "ran"]], out  # (MLflow prints its links too)
    assert left_running(proc.token) == []

    reference = tmp_path / "reference"
    finish(start(reference, *ARGS, "--until", "dedup", "--set", "tracking.enabled=false"))
    a, b = manifests(reference), manifests(w)
    for stage in ("collect", "filter", "dedup"):
        assert content(a[stage]) == content(b[stage]), stage
