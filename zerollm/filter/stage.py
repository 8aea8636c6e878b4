"""filter: datatrove quality steps over the collected pretraining shards.

Every dropped document is kept under dropped/<step>/ (nothing is lost), drop counts per reason go
to the metrics, and a few examples per reason go to MLflow.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

from zerollm.filter.config import FilterConfig
from zerollm.io.console import stderr_to
from zerollm.io.shards import read_docs, shard_paths, write_jsonl
from zerollm.stage import Stage, StageContext, StageResult

Config = FilterConfig


def run(cfg: FilterConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    src = inputs["collect"] / "datasets" / "pretrain"
    shards = shard_paths(src)
    out_shards = out_dir / "shards"
    out_shards.mkdir(parents=True)
    if not cfg.enabled:
        n = 0
        for p in shards:
            shutil.copyfile(p, out_shards / p.name)
        n = sum(1 for _ in read_docs(out_shards))
        return StageResult(metrics={"docs_in": n, "docs_out": n, "dropped": 0}, summary={"enabled": False})

    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from zerollm.executors import run_pipeline as run_datatrove
    from zerollm.filter.steps import build_steps

    def dropped_writer(step: str):
        return JsonlWriter(str(out_dir / "dropped" / step), output_filename="${rank}.jsonl.gz")

    pipeline = [
        JsonlReader(str(src), glob_pattern="*.jsonl.gz", add_file_path=False),
        *build_steps(cfg, dropped_writer),
        JsonlWriter(str(out_shards), output_filename="${rank}.jsonl.gz"),
    ]
    tasks = max(1, len(shards))
    with stderr_to(out_dir / "logs" / "console.log"):
        run_datatrove(ctx.data, pipeline, tasks, min(cfg.workers, tasks), out_dir / "logs", "filter")

    metrics, per_step = _metrics(out_dir / "logs" / "stats.json")
    examples = _examples(out_dir / "dropped", cfg.examples_per_reason)
    write_jsonl(out_dir / "dropped_examples.jsonl", examples)
    (out_dir / "drop_counts.json").write_text(json.dumps(per_step, indent=2), encoding="utf-8")
    for reason, n in sorted(metrics.items()):
        if reason.startswith("dropped_"):
            ctx.log.info("filter dropped %d docs: %s", n, reason[8:])
    return StageResult(metrics=metrics, artifacts=["drop_counts.json", "dropped_examples.jsonl", "logs/stats.json"],
                       summary={"per_step": per_step})


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
