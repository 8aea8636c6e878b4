"""The one MLflow adapter. Everything else calls this, so tracking can be switched off or pointed
at a server by configuration alone.

Runs are addressed by explicit ids (MLflow's "active run" is per thread and Prefect runs tasks in
worker threads).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pydantic import Field

from zerollm.config import StrictModel

log = logging.getLogger("zerollm.tracking")

_SECRET = re.compile(r"(token|secret|password|passwd|api_key|apikey|credential|auth|webhook)", re.I)
_URL_CREDS = re.compile(r"(://)[^/@\s]+@")


class TrackingConfig(StrictModel):
    enabled: bool = Field(True, description="Log runs to MLflow. Off: nothing is tracked (e.g. on a bare GPU box).")
    uri: str | None = Field(
        None,
        description="MLflow tracking URI. Default: $MLFLOW_TRACKING_URI, else sqlite:///<workdir>/mlflow.db.",
    )
    experiment: str = Field("zerollm", description="MLflow experiment name.")


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def redact(params: dict[str, Any]) -> dict[str, str]:
    """Flattened params as strings, with anything that looks like a secret masked."""
    clean = {}
    for k, v in params.items():
        s = str(v)
        if _SECRET.search(k.rsplit(".", 1)[-1]) and v not in (None, "", False):
            s = "***"
        clean[k] = shown_uri(s)[:6000]
    return clean


def redact_tree(d: Any) -> Any:
    """A nested config with the values of secret-looking keys masked (for reports)."""
    if isinstance(d, dict):
        return {k: "***" if _SECRET.search(str(k)) and v not in (None, "", False) else redact_tree(v)
                for k, v in d.items()}
    if isinstance(d, list):
        return [redact_tree(v) for v in d]
    return d


def own_store_uri(workdir: Path) -> str:
    """The workdir's own sqlite store (artifacts beside it in `mlartifacts/`)."""
    return f"sqlite:///{Path(workdir).resolve() / 'mlflow.db'}"


def default_uri(workdir: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or own_store_uri(workdir)


# Where MLflow's sqlite store keeps absolute paths or file URIs (mlflow/store/*/dbmodels/models.py);
# tables or columns an older store lacks are skipped.
_PATH_COLUMNS = (("experiments", "artifact_location"), ("runs", "artifact_uri"), ("model_versions", "source"),
                 ("model_versions", "storage_location"), ("logged_models", "artifact_location"),
                 ("tags", "value"), ("model_version_tags", "value"))


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` tracking URI (None for a server or another store)."""
    return Path(unquote(uri[len("sqlite:///"):])) if uri.startswith("sqlite:///") else None


@contextlib.contextmanager
def store_lock(db: Path):
    """One process at a time opens a new or moved sqlite store: MLflow creates and migrates its schema on
    first use, and two processes doing that at once collide in alembic ("duplicate column name")."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{db}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def rebase_moved_store(workdir: Path, experiment: str) -> None:
    """Point a moved or copied workdir's own MLflow store at its new place (call under `store_lock`).

    MLflow keeps absolute file URIs (the experiment's artifact location, each run's artifact URI, model
    version sources) and has no API to change an experiment's artifact location: left alone, a copy
    would log artifacts into the original (or recreate it after a move) and read models from there.
    Rewritten with sqlite3 in one transaction, before MLflow opens the store."""
    here = Path(workdir).resolve()
    db = here / "mlflow.db"
    if not db.is_file():
        return
    con = sqlite3.connect(db, timeout=60, isolation_level=None)
    try:
        old = _moved_from(con, experiment, here)
        if old is None:  # the common case: nothing to write
            return
        con.execute("BEGIN IMMEDIATE")
        _rewrite_prefixes(con, [(old[0], here.as_uri()), (Path(old[1]).as_uri(), here.as_uri()),
                                (old[1], str(here))])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    log.warning("workdir moved from %s to %s: MLflow paths rebased", old[1], here)


def _moved_from(con: sqlite3.Connection, experiment: str, here: Path) -> tuple[str, str] | None:
    """(stored URI, path) of the old workdir when `experiment`'s artifact location is another
    workdir's `mlartifacts/`; None when it is this one's, not a local file URI, or not there yet."""
    try:
        row = con.execute("SELECT artifact_location FROM experiments WHERE name = ?", (experiment,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):  # locked, corrupt: not a reason to skip the rebase silently
            raise
        row = None  # a store MLflow has not created yet
    loc = (row[0] if row else None) or ""
    if urlparse(loc).scheme != "file" or not loc.endswith("/mlartifacts"):
        return None
    old = Path(unquote(urlparse(loc).path)).parent
    return None if old == here else (loc.removesuffix("/mlartifacts"), str(old))


def _rewrite_prefixes(con: sqlite3.Connection, pairs: list[tuple[str, str]]) -> None:
    """Replace each old prefix (the whole value, or up to a `/`) with its new one in `_PATH_COLUMNS`."""
    for table, column in _PATH_COLUMNS:
        if column not in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}:
            continue
        for old, new in dict(pairs).items():
            con.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                        f"WHERE {column} = ? OR substr({column}, 1, ?) = ?",
                        (new, len(old) + 1, old, len(old) + 1, old + "/"))


RETRY_AFTER_S = 60.0  # after a failed call, tracking calls are skipped this long (each would wait for a timeout)
PROBE_TIMEOUT_S = 5.0
# MLflow's own HTTP defaults retry a dead server for ~4 minutes per call; a run should notice in seconds.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


def shown_uri(text: str) -> str:
    """`text` with the credentials of any URL in it masked."""
    return _URL_CREDS.sub(r"\1***@", text)


def _best_effort(what: str):
    """A tracking call that never stops a stage: when MLflow fails (server down, disk full under its
    sqlite store), the call is skipped with one warning and later calls are skipped for a while."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(self, *args, **kwargs):
            if not self.enabled or time.time() < self._down_until:
                return None
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 — tracking is a record of the work, not the work
                self._down_until = time.time() + RETRY_AFTER_S
                log.warning("MLflow (%s) failed, %s not tracked; the run goes on: %s: %s", shown_uri(self.uri),
                            what, type(exc).__name__, str(exc).splitlines()[0][:300] if str(exc) else "")
                return None
        return call
    return wrap


class Tracker:
    """Parent/child runs with explicit ids; a disabled tracker does nothing and returns None ids.

    Logging calls are best effort (an outage mid-stage costs tracking, never the stage); whether the
    server answers at all is checked once, before any stage runs (`unreachable`)."""

    def __init__(self, cfg: TrackingConfig, workdir: Path):
        self.enabled = cfg.enabled
        self.workdir = Path(workdir)
        self.uri = cfg.uri or default_uri(self.workdir)
        self.uri_key = "tracking.uri" if cfg.uri else "$MLFLOW_TRACKING_URI"  # where the URI came from
        self.experiment_name = cfg.experiment
        self._client = None
        self._experiment_id: str | None = None
        self._down_until = 0.0
        for k, v in HTTP_DEFAULTS.items():
            os.environ.setdefault(k, v)

    def unreachable(self, timeout: float = PROBE_TIMEOUT_S, tries: int = 2) -> str | None:
        """One line naming the URI when a tracking server does not answer (None when it does, or when
        tracking is off or local): said before any stage runs, within seconds."""
        if not self.enabled or not self.uri.startswith(("http://", "https://")):
            return None
        import urllib.error
        import urllib.request

        why = ""
        for attempt in range(tries):
            try:
                with urllib.request.urlopen(self.uri.rstrip("/") + "/health", timeout=timeout):
                    return None
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403):  # it answered, behind authentication
                    return None
                why = f"HTTP {exc.code} on /health: not an MLflow server, or a proxy in between"
            except OSError as exc:
                why = str(getattr(exc, "reason", None) or exc)
            if attempt + 1 < tries:
                time.sleep(1)
        return (f"{self.uri_key}: the MLflow server at {shown_uri(self.uri)} does not answer ({why}); start it, point "
                "tracking.uri or $MLFLOW_TRACKING_URI at one that runs, or set tracking.enabled=false")

    @property
    def client(self):
        if self._client is None:
            from mlflow.tracking import MlflowClient

            db = sqlite_path(self.uri)
            if db is None:
                self._client = MlflowClient(tracking_uri=self.uri)
            else:
                with store_lock(db):
                    if self.uri == own_store_uri(self.workdir):
                        rebase_moved_store(self.workdir, self.experiment_name)
                    client = MlflowClient(tracking_uri=self.uri)
                    client.search_experiments(max_results=1)  # creates or migrates the schema, under the lock
                    self._client = client
        return self._client

    @property
    def experiment_id(self) -> str:
        if self._experiment_id is None:
            exp = self.client.get_experiment_by_name(self.experiment_name)
            if exp is None:
                location = None
                if self.uri.startswith("sqlite:") or "://" not in self.uri:
                    location = (self.workdir.resolve() / "mlartifacts").as_uri()
                try:
                    self._experiment_id = self.client.create_experiment(self.experiment_name, artifact_location=location)
                except Exception:  # created concurrently by another process
                    self._experiment_id = self.client.get_experiment_by_name(self.experiment_name).experiment_id
            else:
                self._experiment_id = exp.experiment_id
        return self._experiment_id

    @_best_effort("a run")
    def start_run(self, name: str, parent_run_id: str | None = None, tags: dict | None = None,
                  params: dict | None = None) -> str | None:
        if not self.enabled:
            return None
        all_tags = {"zerollm.stage": name, **(tags or {})}
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id
        run = self.client.create_run(self.experiment_id, run_name=name,
                                     tags={k: str(v) for k, v in all_tags.items()})
        run_id = run.info.run_id
        if params:
            self.log_params(run_id, params)
        return run_id

    @_best_effort("params")
    def log_params(self, run_id: str | None, params: dict) -> None:
        if not run_id:
            return
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in redact(flatten(params)).items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i : i + 100])

    @_best_effort("metrics")
    def log_metrics(self, run_id: str | None, metrics: dict[str, float], step: int | None = None) -> None:
        if not run_id or not metrics:
            return
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = [Metric(k, float(v), ts, step or 0) for k, v in metrics.items() if _is_number(v)]
        for i in range(0, len(items), 1000):
            self.client.log_batch(run_id, metrics=items[i : i + 1000])

    def metric_buffer(self, run_id: str | None) -> "MetricBuffer":
        return MetricBuffer(self, run_id)

    @contextlib.contextmanager
    def system_metrics(self, run_id: str | None, enabled: bool):
        """CPU/GPU/memory sampled into the run while a long stage works (MLflow's own monitor)."""
        monitor = None
        if enabled and run_id:
            try:
                from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

                monitor = SystemMetricsMonitor(run_id, sampling_interval=10, samples_before_logging=1,
                                               tracking_uri=self.uri)
                monitor.start()
            except Exception as exc:  # psutil missing, unsupported platform: tracking must not kill training
                log.warning("system metrics off: %s", exc)
                monitor = None
        try:
            yield
        finally:
            if monitor is not None:
                monitor.finish()

    @_best_effort("tags")
    def set_tags(self, run_id: str | None, tags: dict) -> None:
        if not run_id:
            return
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    @_best_effort("an artifact")
    def log_artifact(self, run_id: str | None, path: Path, artifact_path: str | None = None) -> None:
        if not run_id:
            return
        path = Path(path)
        if path.is_dir():
            self.client.log_artifacts(run_id, str(path), artifact_path)
        elif path.is_file():
            self.client.log_artifact(run_id, str(path), artifact_path)

    @_best_effort("a text artifact")
    def log_text(self, run_id: str | None, text: str, artifact_file: str) -> None:
        if run_id:
            self.client.log_text(run_id, text, artifact_file)

    @_best_effort("a table")
    def log_table(self, run_id: str | None, rows: list[dict], artifact_file: str) -> None:
        """Rows as an MLflow table artifact (shown as a table in the UI); nested values as JSON."""
        if not run_id or not rows:
            return
        import json

        columns = list(dict.fromkeys(k for r in rows for k in r))
        data = {c: [v if v is None or isinstance(v, (int, float, str, bool)) else json.dumps(v)
                    for v in (r.get(c) for r in rows)] for c in columns}
        self.client.log_table(run_id, data=data, artifact_file=artifact_file)

    def artifact_uri(self, run_id: str, path: str = "") -> str:
        base = self.client.get_run(run_id).info.artifact_uri
        return f"{base.rstrip('/')}/{path}" if path else base

    def register_version(self, name: str, source: str, run_id: str | None, tags: dict, description: str = "") -> str:
        """A new version of registered model `name` (created on first use); returns the version number."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException:
            try:
                self.client.create_registered_model(name, description="zerollm: chat models, one version per run "
                                                                      "that reached evaluate")
            except MlflowException:  # created concurrently
                pass
        mv = self.client.create_model_version(name, source=source, run_id=run_id,
                                              tags={k: str(v) for k, v in tags.items()}, description=description)
        return str(mv.version)

    def alias_version(self, name: str, alias: str):
        """The model version `alias` points at (with its tags), or None."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version_by_alias(name, alias)
        except MlflowException:
            return None

    def versions_tagged(self, name: str, key: str, value: str) -> list[str]:
        """Versions of registered model `name` whose tag `key` is `value`, oldest first."""
        found = self.client.search_model_versions(f"name = '{name}' and tags.`{key}` = '{value}'")
        return [str(v) for v in sorted(int(mv.version) for mv in found)]

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(name, alias, version)

    def set_version_tags(self, name: str, version: str, tags: dict) -> None:
        for k, v in tags.items():
            self.client.set_model_version_tag(name, version, k, str(v))

    @_best_effort("the end of a killed run")
    def end_stale_runs(self, parent_run_id: str | None) -> None:
        """End a dead pipeline run and its still-RUNNING stage runs as FAILED, tagged as killed."""
        if not self.enabled or not parent_run_id:
            return
        children = self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}' "
                                                "and attributes.status = 'RUNNING'")
        for run_id in [r.info.run_id for r in children] + [parent_run_id]:
            if self.client.get_run(run_id).info.status == "RUNNING":
                self.set_tags(run_id, {"zerollm.ended": "killed"})
                self.client.set_terminated(run_id, status="FAILED")

    @_best_effort("the end of a run")
    def end_run(self, run_id: str | None, status: str = "FINISHED") -> None:
        if run_id:
            self.client.set_terminated(run_id, status=status)

    @_best_effort("a link")
    def run_url(self, run_id: str | None) -> str | None:
        """A link to the run in the MLflow UI (`zerollm ui` serves a local store on 127.0.0.1:5000)."""
        if not run_id:
            return None
        base = self.uri if self.uri.startswith("http") else os.environ.get("ZEROLLM_MLFLOW_UI", "http://127.0.0.1:5000")
        return f"{base.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{run_id}"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


class MetricBuffer:
    """Step-wise metrics (training curves) sent in batches: one HTTP/sqlite call per flush, not per value."""

    def __init__(self, tracker: Tracker, run_id: str | None, max_items: int = 500, max_seconds: float = 15.0):
        self.tracker, self.run_id = tracker, run_id
        self.max_items, self.max_seconds = max_items, max_seconds
        self.items: list[tuple[dict, int | None]] = []
        self.last = time.time()

    def add(self, metrics: dict, step: int | None = None) -> None:
        if not self.run_id:
            return
        self.items.append((dict(metrics), step))
        if len(self.items) * max(len(metrics), 1) >= self.max_items or time.time() - self.last > self.max_seconds:
            self.flush()

    def flush(self) -> None:
        """Send what is buffered. A tracking outage must not stop a long training run: the batch is
        kept for the next flush (bounded), and the failure logged."""
        if not self.items or time.time() < self.tracker._down_until:  # an outage: keep them, don't wait on it
            return
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        batch = [Metric(k, float(v), ts, step or 0) for m, step in self.items for k, v in m.items() if _is_number(v)]
        self.last = time.time()
        try:
            for i in range(0, len(batch), 1000):
                self.tracker.client.log_batch(self.run_id, metrics=batch[i : i + 1000])
        except Exception as exc:
            self.tracker._down_until = time.time() + RETRY_AFTER_S
            log.warning("MLflow unreachable, %d metric values kept for the next try: %s", len(batch), exc)
            del self.items[: max(0, len(self.items) - 10 * self.max_items)]
            return
        self.items.clear()
