"""Run records: `<workdir>/runs/<id>.json`, rewritten after each stage.

`zerollm status` reads the latest, `zerollm resume` reruns the latest failed one with its own config,
`compare` and `report` read any. Paths inside are relative to the workdir, so a workdir can be moved
or copied; read them through `stage_path`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from zerollm import machine
from zerollm.cache import process_alive

log = logging.getLogger("zerollm")
RESERVE_BYTES = 256 * 1024


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def stage_path(workdir: Path, d: str) -> Path:
    """A record's stage directory in this workdir (records of older versions hold absolute paths)."""
    return Path(workdir) / d


class RunRecord:
    def __init__(self, workdir: Path, config: dict, mlflow_run_id: str | None = None, run_id: str | None = None,
                 until: str | None = None, resumed_from: str | None = None, extra: dict | None = None):
        self.workdir = Path(workdir)
        self.id = run_id or new_run_id()
        self.data = {"run_id": self.id, "started": time.time(), "status": "running", "mlflow_run_id": mlflow_run_id,
                     "config": config, "until": until, "resumed_from": resumed_from, "pid": os.getpid(),
                     "host": socket.gethostname(), "machine": machine.describe(), "stages": [], **(extra or {})}
        self.save()
        try:  # room kept for the final record: a run that fails on a full disk must still say so
            self._reserve.write_bytes(b"\0" * RESERVE_BYTES)
        except OSError:
            self._reserve.unlink(missing_ok=True)

    @property
    def _reserve(self) -> Path:
        return self.workdir / "runs" / f".{self.id}.reserve"

    def add(self, outcome) -> None:
        self.data["stages"].append(asdict(outcome))
        self.save()

    def finish(self, status: str, error: BaseException | None = None) -> None:
        self._reserve.unlink(missing_ok=True)
        self.data["status"] = status
        self.data["finished"] = time.time()
        if machine.accelerator():
            self.data["machine"]["accelerator"] = machine.accelerator()
        if error is not None:
            self.data["error"] = f"{type(error).__name__}: {error}"[:2000]
        self.save()

    def save(self) -> None:
        try:
            _write(self.workdir, self.data, latest=True)
        except OSError as exc:  # a full disk: the run goes on (or fails with its own error), said once here
            log.warning("run record %s not saved: %s", self.id, exc)


def _write(workdir: Path, rec: dict, latest: bool) -> None:
    runs = Path(workdir) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    text = json.dumps(rec, indent=2, default=str)
    for name in [f"{rec['run_id']}.json"] + (["latest.json"] if latest else []):
        tmp = runs / f".{name}.{os.getpid()}.part"  # per process: two runs may save at once
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(runs / name)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise


def latest_run(workdir: Path) -> dict | None:
    path = Path(workdir) / "runs" / "latest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


STATUS_KEYS = ("stage", "key", "cache_hit", "seconds", "metrics", "dir", "mlflow_run_id", "built_by_run",
               "built_seconds")


def status(workdir: Path) -> dict | None:
    """The latest run, per stage: what `zerollm status --json` and `python -m zerollm status` print."""
    rec = latest_run(workdir)
    if rec is None:
        return None
    stages = [{**{k: s.get(k) for k in STATUS_KEYS}, "dir": str(stage_path(Path(workdir).resolve(), s["dir"]))}
              for s in rec["stages"]]
    return {"run_id": rec["run_id"], "status": rec["status"], "stages": stages}


def run_records(workdir: Path) -> list[dict]:
    """Every readable run record of a workdir, oldest first (one reader: `zerollm.compare.list_runs`)."""
    from zerollm.compare import list_runs

    return list_runs(workdir)


def latest_failed_run(workdir: Path) -> dict | None:
    recs = run_records(workdir)
    return recs[-1] if recs and recs[-1].get("status") == "failed" else None


def mark_stale_runs(workdir: Path, tracker) -> list[str]:
    """Runs whose process died without a word (kill -9, power loss) still say "running", and so do their
    MLflow runs: mark them failed (killed) before a new run starts. Runs of live processes, or of other
    hosts, are left alone."""
    marked = []
    for rec in run_records(workdir):
        if rec.get("status") != "running" or rec.get("host") != socket.gethostname() or not rec.get("pid"):
            continue
        if rec["pid"] == os.getpid() or process_alive(rec["pid"]):
            continue
        rec.update(status="failed", finished=time.time(), error="killed: its process ended without finishing")
        latest = latest_run(workdir)
        _write(Path(workdir), rec, latest=bool(latest and latest.get("run_id") == rec["run_id"]))
        try:
            tracker.end_stale_runs(rec.get("mlflow_run_id"))
        except Exception as exc:  # tracking down must not block a new run
            log.warning("could not end the MLflow runs of killed run %s: %s", rec["run_id"], exc)
        marked.append(rec["run_id"])
        log.warning("run %s was killed (process %s gone): marked failed", rec["run_id"], rec["pid"])
    return marked
