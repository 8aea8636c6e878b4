"""The two servers behind `zerollm ui`: Prefect and MLflow, on one workdir, started together,
checked by their health endpoints, stopped together.

Each server is its own child process. A child is told to die with its parent (PR_SET_PDEATHSIG on
Linux), so even a `kill -9` of `zerollm ui` leaves no orphaned server holding the ports.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from zerollm.tracking import default_uri


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: SIGTERM/Ctrl-C handling still stops the children
        pass


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class UiServers:
    def __init__(self, workdir: Path, host: str, prefect_port: int, mlflow_port: int):
        self.workdir = Path(workdir).resolve()
        self.host = host
        self.prefect_ui = f"http://{host}:{prefect_port}"
        self.prefect_api = f"{self.prefect_ui}/api"
        self.mlflow_ui = f"http://{host}:{mlflow_port}"
        self.tracking_uri = default_uri(self.workdir)
        self.prefect_port, self.mlflow_port = prefect_port, mlflow_port
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, timeout: float) -> None:
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        # the UI page asks /ui-settings where the API is: without this it says :4200 whatever the port
        prefect_env = {**os.environ, "PREFECT_UI_API_URL": self.prefect_api, "PREFECT_API_URL": self.prefect_api,
                       "PREFECT_SERVER_API_HOST": self.host, "PREFECT_SERVER_API_PORT": str(self.prefect_port)}
        self._spawn("prefect", [sys.executable, "-m", "prefect", "server", "start", "--host", self.host,
                                "--port", str(self.prefect_port)], prefect_env, logs)
        self._spawn("mlflow", [sys.executable, "-m", "mlflow", "server", "--host", self.host, "--port",
                               str(self.mlflow_port), "--backend-store-uri", self.tracking_uri, "--workers", "1"],
                    dict(os.environ), logs)
        checks = {"prefect": f"{self.prefect_api}/health", "mlflow": f"{self.mlflow_ui}/health"}
        deadline = time.time() + timeout
        pending = dict(checks)
        while pending:
            for name in list(pending):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited with code {proc.returncode}; see "
                                       f"{logs / (name + '.log')}")
                if healthy(pending[name]):
                    del pending[name]
            if pending and time.time() > deadline:
                raise RuntimeError(f"{', '.join(pending)} did not answer {', '.join(pending.values())} within "
                                   f"{timeout:.0f}s; see {logs}")
            time.sleep(0.5)

    def _spawn(self, name: str, cmd: list[str], env: dict, logs: Path) -> None:
        out = open(logs / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent)

    def wait(self) -> None:
        """Until one server exits (or a signal arrives)."""
        while all(p.poll() is None for p in self.procs.values()):
            time.sleep(1)

    def stop(self, grace: float = 20.0) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + grace
        for p in self.procs.values():
            try:
                p.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class RunServer:
    """The Prefect API of one `zerollm run` when none is configured (no PREFECT_API_URL).

    Prefect's own temporary server first imports its whole server app into the calling process (~4 s
    on 2 cores) and only then starts it (~6 s). This one is `prefect server start` (API only: no UI, no
    background services that would take CPU from training) in a child process, started before the run
    plans and imports, so the two overlap; it dies with the run, even on kill -9.
    """

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir).resolve()
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.proc: subprocess.Popen | None = None
        self._db_lock = None

    def start(self) -> None:
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._hold_new_database()
        out = open(logs / "prefect-run-server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port),
             "--no-services", "--no-ui", "--analytics-off"],
            env={**os.environ, "PREFECT_SERVER_API_HOST": "127.0.0.1"}, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        atexit.register(self.stop)  # registered before Prefect's own exit handlers, so it runs after them
        os.environ["PREFECT_API_URL"] = self.api  # this process (and its Prefect import, still ahead) uses it
        os.environ.setdefault("PREFECT_UI_URL", "http://127.0.0.1:4200")  # links: where `zerollm ui` serves

    def _hold_new_database(self) -> None:
        """Runs started together on a new workdir would each start a server that creates and migrates
        the one Prefect database at once (alembic collides): the first holds a lock until its server
        answers, and the others start theirs after it, on a database that is ready."""
        import fcntl

        home = Path(os.environ.get("PREFECT_HOME") or self.workdir / "prefect")
        home.mkdir(parents=True, exist_ok=True)
        lock = open(home / "prefect.db.lock", "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (home / "prefect.db").exists():
            lock.close()
        else:
            self._db_lock = lock

    def wait(self, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        try:
            while not healthy(f"{self.api}/health"):
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the run's Prefect server did not start (see "
                                       f"{self.workdir / 'logs' / 'prefect-run-server.log'})")
                time.sleep(0.1)
        finally:
            self._release_database()

    def _release_database(self) -> None:
        if self._db_lock is not None:
            self._db_lock.close()
            self._db_lock = None

    def stop(self) -> None:
        self._release_database()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
