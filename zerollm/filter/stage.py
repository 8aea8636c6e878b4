"""filter: datatrove quality steps over the collected pretraining shards.

Every dropped document is kept under dropped/<step>/ (nothing is lost), drop counts per reason go
to the metrics, and a few examples per reason go to MLflow.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

from zerollm.cache import key_fields
from zerollm.filter.config import FilterConfig
from zerollm.io.console import stderr_to
from zerollm.io.shards import read_docs, shard_paths, write_jsonl
from zerollm.stage import Stage, StageContext, StageResult
from zerollm.units import UnitStore, input_hashes, link

Config = FilterConfig
KEPT = "kept.jsonl.gz"  # in a unit: the shard's kept docs; beside it dropped/<step>.jsonl.gz and stats.json


def run(cfg: FilterConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    """Each collect shard is filtered once per filter config and code (a unit, zerollm.units): a run
    filters only the shards it has not seen, and links the rest."""
    src = inputs["collect"] / "datasets" / "pretrain"
    shards = shard_paths(src)
    out_shards = out_dir / "shards"
    out_shards.mkdir(parents=True)
    if not cfg.enabled:
        for i, p in enumerate(shards):
            link(p, out_shards / f"{i:05d}.jsonl.gz")
        n = sum(1 for _ in read_docs(out_shards))
        return StageResult(metrics={"docs_in": n, "docs_out": n, "dropped": 0}, summary={"enabled": False})

    store = UnitStore(ctx.workdir, "filter")
    sha = input_hashes(inputs["collect"], "datasets/pretrain")
    keys = [store.key(code=ctx.code_version, config=key_fields(cfg), shard=sha[p.name]) for p in shards]
    todo = list(dict.fromkeys(k for k in keys if store.get(k) is None))
    if todo:
        _filter_new(cfg, [shards[keys.index(k)] for k in todo], todo, store, out_dir, ctx)

    from datatrove.utils.stats import PipelineStats

    stats = []
    for i, key in enumerate(keys):
        unit = store.get(key)
        if (unit / KEPT).is_file():
            link(unit / KEPT, out_shards / f"{i:05d}.jsonl.gz")
        for f in sorted((unit / "dropped").glob("*.jsonl.gz")):
            link(f, out_dir / "dropped" / f.name.removesuffix(".jsonl.gz") / f"{i:05d}.jsonl.gz")
        stats.append(PipelineStats.from_json(json.loads((unit / "stats.json").read_text(encoding="utf-8"))))
    (out_dir / "logs").mkdir(exist_ok=True)
    with open(out_dir / "logs" / "stats.json", "w", encoding="utf-8") as f:
        sum(stats[1:], stats[0]).save_to_disk(f)

    metrics, per_step = _metrics(out_dir / "logs" / "stats.json")
    metrics.update(shards=len(shards), shards_filtered=len(todo))
    examples = _examples(out_dir / "dropped", cfg.examples_per_reason)
    write_jsonl(out_dir / "dropped_examples.jsonl", examples)
    (out_dir / "drop_counts.json").write_text(json.dumps(per_step, indent=2), encoding="utf-8")
    for reason, n in sorted(metrics.items()):
        if reason.startswith("dropped_"):
            ctx.log.info("filter dropped %d docs: %s", n, reason[8:])
    ctx.log.info("filter: %d of %d shards filtered in this run, %d reused", len(todo), len(shards),
                 len(shards) - len(todo))
    return StageResult(metrics=metrics, artifacts=["drop_counts.json", "dropped_examples.jsonl", "logs/stats.json"],
                       summary={"per_step": per_step})


def _filter_new(cfg: FilterConfig, shards: list[Path], keys: list[str], store: UnitStore, out_dir: Path,
                ctx: StageContext) -> None:
    """One datatrove task per shard (task j reads only file j of the staged folder), so each task's
    kept docs, dropped docs and stats are that shard's unit."""
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from zerollm.executors import run_pipeline as run_datatrove
    from zerollm.filter.steps import build_steps

    work = out_dir / "work"
    staged = work / "in"
    for j, p in enumerate(shards):
        link(p, staged / f"{j:05d}.jsonl.gz")

    def dropped_writer(step: str):
        return JsonlWriter(str(work / "dropped" / step), output_filename="${rank}.jsonl.gz")

    pipeline = [
        JsonlReader(str(staged), glob_pattern="*.jsonl.gz", add_file_path=False),
        *build_steps(cfg, dropped_writer),
        JsonlWriter(str(work / "kept"), output_filename="${rank}.jsonl.gz"),
    ]
    with stderr_to(out_dir / "logs" / "console.log"):
        run_datatrove(ctx.data, pipeline, len(shards), min(cfg.workers, len(shards)), work / "logs", "filter")

    for j, key in enumerate(keys):
        name = f"{j:05d}.jsonl.gz"

        def build(unit: Path, j=j, name=name) -> None:
            if (work / "kept" / name).is_file():  # datatrove writes a file only once it has a doc for it
                os.replace(work / "kept" / name, unit / KEPT)
            for f in (work / "dropped").glob(f"*/{name}"):
                (unit / "dropped").mkdir(exist_ok=True)
                os.replace(f, unit / "dropped" / f"{f.parent.name}.jsonl.gz")
            os.replace(work / "logs" / "stats" / f"{j:05d}.json", unit / "stats.json")

        store.put(key, build)
    shutil.rmtree(work)


def _metrics(stats_path: Path) -> tuple[dict, dict]:
    steps = json.loads(stats_path.read_text(encoding="utf-8"))
    metrics: dict[str, float] = {}
    per_step: dict[str, dict] = {}
    docs_in = docs_out = None
    for step in steps:
        name, stats = step["name"], step.get("stats", {})
        values = {k: (v["total"] if isinstance(v, dict) else v) for k, v in stats.items()}
        if "READER" in name and docs_in is None:
            docs_in = values.get("documents")
        if "WRITER" in name:
            docs_out = values.get("total", docs_out)
        if "FILTER" in name or "dropped" in values:
            per_step[name] = {k: v for k, v in values.items() if k in ("total", "forwarded", "dropped")
                              or k.startswith("dropped_") or k.startswith("passed_unchecked_")}
            for k, v in values.items():
                if k.startswith("dropped_"):
                    metrics[k] = metrics.get(k, 0) + v
    metrics["docs_in"] = docs_in or 0
    metrics["docs_out"] = docs_out or 0
    metrics["dropped"] = metrics["docs_in"] - metrics["docs_out"]
    return metrics, per_step


def _examples(dropped_dir: Path, per_reason: int) -> list[dict]:
    if not dropped_dir.is_dir() or per_reason == 0:
        return []
    picked: dict[tuple, list] = defaultdict(list)
    for step_dir in sorted(p for p in dropped_dir.iterdir() if p.is_dir()):
        for doc in read_docs(step_dir):
            reason = doc.get("metadata", {}).get("filter_reason", "unknown")
            bucket = picked[(step_dir.name, reason)]
            if len(bucket) < per_reason:
                bucket.append({"step": step_dir.name, "reason": reason, "id": doc["id"], "text": doc["text"][:1000]})
    return [row for rows in picked.values() for row in rows]


STAGE = Stage(
    name="filter", config=FilterConfig, run=run, inputs=("collect",),
    reads="collect: datasets/pretrain shards",
    writes="shards/*.jsonl.gz kept docs, drop counts per reason, dropped examples",
    view="zerollm.filter.view",
)
