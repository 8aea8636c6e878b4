"""dedup: exact copies (normalized-text hash), then datatrove's MinHash signature → buckets →
cluster → filter, then decontamination against the evaluation sets.

One survivor per cluster; every removed document is kept under removed/ with its reason, and
cluster sizes are recorded.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from pathlib import Path

from zerollm.dedup.config import DedupConfig
from zerollm.io.console import stderr_to
from zerollm.io.shards import ShardWriter, read_docs, shard_paths, write_jsonl
from zerollm.stage import Stage, StageContext, StageResult

Config = DedupConfig


def run(cfg: DedupConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    t0 = time.time()
    src = inputs["filter"] / "shards"
    work = out_dir / "work"
    metrics: dict[str, float] = {}
    docs_in = _exact_pass(cfg, src, work / "exact", out_dir, metrics, ctx)
    metrics["docs_in"] = docs_in
    n_tasks = len(shard_paths(work / "exact"))

    item_files = [str(inputs["collect"] / "datasets" / f"{name}.jsonl") for name in cfg.decontaminate.datasets]
    missing = [f for f in item_files if not Path(f).is_file()]
    if cfg.decontaminate.enabled and missing:
        raise FileNotFoundError(f"dedup.decontaminate.datasets: no such collect dataset file(s): {missing}")

    buckets, per_bucket = cfg.lsh_shape()
    metrics.update(num_buckets=buckets, hashes_per_bucket=per_bucket)
    _datatrove_pass(cfg, work, out_dir, n_tasks, buckets, per_bucket, item_files, ctx.data)

    removed = _collect_removed(out_dir)
    clusters = _cluster_sizes(out_dir)
    docs_out = sum(1 for _ in read_docs(out_dir / "shards"))
    metrics.update(
        docs_out=docs_out,
        minhash_removed=removed["minhash"], decontam_removed=removed["contaminated"],
        clusters=len(clusters), max_cluster_size=max(clusters.values(), default=1),
        seconds=round(time.time() - t0, 3),
    )
    metrics["docs_per_s"] = round(docs_in / max(metrics["seconds"], 1e-9), 1)
    assert docs_in == docs_out + metrics["exact_removed"] + removed["minhash"] + removed["contaminated"], metrics
    hist = Counter(clusters.values())
    (out_dir / "clusters.json").write_text(json.dumps(
        {"size_histogram": {str(k): v for k, v in sorted(hist.items())}, "clusters": clusters}, indent=1),
        encoding="utf-8")
    import shutil

    shutil.rmtree(work)
    ctx.log.info("dedup: %d in, %d exact, %d near-dup, %d contaminated removed, %d out (%.0f docs/s)",
                 docs_in, metrics["exact_removed"], removed["minhash"], removed["contaminated"], docs_out,
                 metrics["docs_per_s"])
    return StageResult(metrics=metrics, artifacts=["removed_ids.jsonl", "clusters.json"],
                       summary={"lsh": [buckets, per_bucket]})


def _norm_hash(text: str) -> str:
    from datatrove.utils.text import TextNormConfig, simplify_text

    return hashlib.sha1(simplify_text(text, TextNormConfig()).encode("utf-8")).hexdigest()


def _exact_pass(cfg, src: Path, dest: Path, out_dir: Path, metrics: dict, ctx) -> int:
    """Keep the first doc of each normalized text; also re-shards into balanced task inputs."""
    n_docs = sum(1 for _ in read_docs(src))  # a counting pass keeps memory flat on big corpora
    per_task = max(1, math.ceil(n_docs / max(1, math.ceil(n_docs / cfg.docs_per_task))))
    first: dict[str, str] = {}
    removed = []
    with ShardWriter(dest, docs_per_shard=per_task) as w:
        for doc in read_docs(src):
            if cfg.exact:
                h = _norm_hash(doc["text"])
                if h in first:
                    removed.append({"id": doc["id"], "reason": "exact", "of": first[h], "text": doc["text"]})
                    continue
                first[h] = doc["id"]
            w.write(doc)
    if w.count == 0:  # keep datatrove happy with at least one (empty) task input
        (dest / "shard-00000.jsonl.gz").touch()
    write_jsonl(out_dir / "removed" / "exact.jsonl", removed)
    metrics["exact_removed"] = len(removed)
    return n_docs


def _datatrove_pass(cfg, work: Path, out_dir: Path, n_tasks: int, buckets: int, per_bucket: int,
                    item_files: list[str], data=None) -> None:
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    from zerollm.dedup.decontam import DecontamFilter
    from zerollm.dedup.text import MixedScriptTokenizer
    from zerollm.executors import run_pipeline as run_datatrove

    mh = MinhashConfig(n_grams=cfg.n_grams, num_buckets=buckets, hashes_per_bucket=per_bucket, seed=cfg.seed,
                       hash_config=HashConfig(precision=64, hash_fc="xxhash"))  # needs xxhash<4 (pyproject)

    def reader():
        return JsonlReader(str(work / "exact"), glob_pattern="*.jsonl.gz", add_file_path=False)

    workers = min(cfg.workers, n_tasks)
    logs = out_dir / "logs"

    def execute(pipeline, tasks, name, w=workers):
        with stderr_to(logs / "console.log"):
            run_datatrove(data, pipeline, tasks, w, logs / name, f"dedup-{name}")

    final_steps = []
    if cfg.minhash:
        execute([reader(), MinhashDedupSignature(str(work / "sigs"), config=mh, language=MixedScriptTokenizer())],
                n_tasks, "1-signature")
        execute([MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=mh)], buckets, "2-buckets",
                1)  # sorting small signature files: in-process beats a pool
        execute([MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=mh, save_cluster_id=True,
                                     save_cluster_size=True)], 1, "3-cluster", 1)
        final_steps.append(MinhashDedupFilter(str(work / "remove"), load_cluster_ids=True, load_cluster_sizes=True,
                                              exclusion_writer=JsonlWriter(str(out_dir / "removed" / "minhash"),
                                                                           output_filename="${rank}.jsonl.gz")))
    if cfg.decontaminate.enabled:
        final_steps.append(DecontamFilter(item_files, cfg.decontaminate.threshold, cfg.decontaminate.num_perm,
                                          exclusion_writer=JsonlWriter(str(out_dir / "removed" / "contaminated"),
                                                                       output_filename="${rank}.jsonl.gz")))
    execute([reader(), *final_steps, JsonlWriter(str(out_dir / "shards"), output_filename="${rank}.jsonl.gz")],
            n_tasks, "4-filter")


def _collect_removed(out_dir: Path) -> Counter:
    counts: Counter = Counter({"minhash": 0, "contaminated": 0})
    rows = [{"id": r["id"], "reason": "exact", "of": r["of"]} for r in read_docs([out_dir / "removed" / "exact.jsonl"])]
    for reason in ("minhash", "contaminated"):
        d = out_dir / "removed" / reason
        if not d.is_dir():
            continue
        for doc in read_docs(d):
            md = doc.get("metadata", {})
            row = {"id": doc["id"], "reason": reason}
            if reason == "minhash":
                row["cluster"] = md.get("minhash_cluster_id")
                row["cluster_size"] = md.get("minhash_cluster_size")
            else:
                row["matches"] = md.get("contaminated_with")  # "<dataset>:<item id>"
            rows.append(row)
            counts[reason] += 1
    write_jsonl(out_dir / "removed_ids.jsonl", rows)
    return counts


def _cluster_sizes(out_dir: Path) -> dict[str, int]:
    """Survivor id -> size of its near-duplicate cluster (clusters of one are omitted)."""
    sizes = {}
    for doc in read_docs(out_dir / "shards"):
        size = doc.get("metadata", {}).get("minhash_cluster_size", 1)
        if size and size > 1:
            sizes[doc["id"]] = size
    return sizes


STAGE = Stage(
    name="dedup", config=DedupConfig, run=run, inputs=("collect", "filter"),
    reads="filter: shards; collect: eval set for decontamination",
    writes="shards/*.jsonl.gz one survivor per cluster, removed ids, cluster sizes",
    view="zerollm.dedup.view",
)
