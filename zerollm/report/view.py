"""A run as the report reads it: its run record, and each stage's committed directory (manifest,
metrics, files). Anything missing (a stage that did not run, a file an older version did not write)
reads as None, so a report of a partial run says what is missing instead of failing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from zerollm.records import stage_path


@dataclass
class StageView:
    name: str
    status: str  # ran | cached | failed | not run
    seconds: float | None = None
    key: str | None = None
    dir: Path | None = None
    metrics: dict = field(default_factory=dict)
    mlflow_run_id: str | None = None
    manifest: dict | None = None
    built_by_run: str | None = None  # for a cache hit: the run that built the output
    built_seconds: float | None = None  # and how long it took then
    reasons: list[str] = field(default_factory=list)  # why it ran

    @property
    def done(self) -> bool:
        return self.manifest is not None

    def path(self, rel: str) -> Path | None:
        p = self.dir / rel if self.dir is not None else None
        return p if p is not None and p.exists() else None

    def json(self, rel: str):
        p = self.path(rel)
        try:
            return json.loads(p.read_text(encoding="utf-8")) if p else None
        except (OSError, ValueError):
            return None

    def jsonl(self, rel: str, limit: int | None = None) -> list[dict]:
        p = self.path(rel)
        rows: list[dict] = []
        if p is None:
            return rows
        with p.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        continue
                if limit is not None and len(rows) >= limit:
                    break
        return rows


@dataclass
class RunView:
    workdir: Path
    record: dict
    stages: dict[str, StageView]
    registry: object  # zerollm.registry.Registry: the stages, their order and their views

    @property
    def config(self) -> dict:
        return self.record.get("config") or {}

    @property
    def run_id(self) -> str:
        return self.record["run_id"]

    def stage(self, name: str) -> StageView:
        return self.stages.get(name) or StageView(name, "not run")  # a stage this pipeline does not have

    def missing(self, *names: str) -> list[str]:
        return [n for n in names if not self.stage(n).done]

    @classmethod
    def load(cls, workdir: Path, record: dict, registry) -> "RunView":
        by_name = {s["stage"]: s for s in record.get("stages", [])}
        stages = {}
        failed_seen = False
        for name in registry.names:
            s = by_name.get(name)
            if s is None:
                failed = record.get("status") == "failed" and not failed_seen and _planned(record, name, registry)
                failed_seen = failed_seen or failed
                stages[name] = StageView(name, "failed" if failed else "not run")
                continue
            d = stage_path(workdir, s["dir"])
            manifest = None
            try:
                manifest = json.loads((d / "MANIFEST.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
            stages[name] = StageView(name, "cached" if s.get("cache_hit") else "ran", s.get("seconds"), s.get("key"),
                                     d, s.get("metrics") or {}, s.get("mlflow_run_id"), manifest,
                                     s.get("built_by_run"), s.get("built_seconds"), s.get("reasons") or [])
        return cls(Path(workdir), record, stages, registry)


def _planned(record: dict, name: str, registry) -> bool:
    until = record.get("until")
    return until not in registry.names or registry.names.index(name) <= registry.names.index(until)
