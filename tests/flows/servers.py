"""Real Prefect and MLflow servers on 127.0.0.1 for tests, started and stopped by the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout}s: {log.read_text()[-3000:]}")


@contextmanager
def server(cmd: list[str], health: str, log: Path, env: dict, timeout: float = 120):
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_http(health, timeout, proc, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def prefect_server(home: Path):
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with server(cmd, f"http://127.0.0.1:{port}/api/health", home / "prefect-server.log", env):
        yield f"http://127.0.0.1:{port}/api"


@contextmanager
def mlflow_server(root: Path):
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--backend-store-uri", f"sqlite:///{root / 'mlflow-server.db'}",
           "--artifacts-destination", str(root / "mlflow-artifacts")]
    with server(cmd, f"http://127.0.0.1:{port}/health", root / "mlflow-server.log", dict(os.environ), timeout=180):
        yield f"http://127.0.0.1:{port}"
