"""dedup: exact copies (normalized-text hash), near copies (datatrove's MinHash signatures in a
datasketch LSH index) and documents that contain an evaluation item, over the whole kept corpus.

Incremental by construction. The expensive part, reading each document and hashing its shingles, is
done once per filter shard and kept as a unit (`zerollm.units`): its docs' exact hashes, MinHash
signatures and eval-item matches. The decision is a cheap pass over those signatures, in corpus
order (sources, then files, then lines): a document is removed when its normalized text was seen
before, or when it shares an LSH band with a document kept before it. So the first copy survives,
a new file's documents are checked against everything kept before them (history), and an incremental
run keeps exactly the documents a fresh run over the same files keeps.

Every removed document is kept under removed/ with its reason and the document it copies.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from pathlib import Path

from zerollm import cache
from zerollm.dedup.config import DedupConfig
from zerollm.io.console import stderr_to
from zerollm.io.shards import ShardWriter, read_docs, read_jsonl, shard_paths, write_jsonl
from zerollm.stage import Stage, StageContext, StageResult
from zerollm.units import UnitStore, info as unit_info, input_hashes, link

Config = DedupConfig
SIGS, DOCS = "sig.npy", "docs.jsonl"  # a signature unit: one row per doc; docs: id, exact hash, eval match


def run(cfg: DedupConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    t0 = time.time()
    shards = shard_paths(inputs["filter"] / "shards")
    sha = input_hashes(inputs["filter"], "shards")

    items = {name: inputs["collect"] / "datasets" / f"{name}.jsonl" for name in cfg.decontaminate.datasets}
    missing = [str(f) for f in items.values() if not f.is_file()]
    if cfg.decontaminate.enabled and missing:
        raise FileNotFoundError(f"dedup.decontaminate.datasets: no such collect dataset file(s): {missing}")
    collected = input_hashes(inputs["collect"], "datasets")
    buckets, per_bucket = cfg.lsh_shape()

    store = UnitStore(ctx.workdir, "dedup")
    how = {"code": ctx.code_version, "exact": cfg.exact, "minhash": cfg.minhash, "n_grams": cfg.n_grams,
           "lsh": [buckets, per_bucket], "seed": cfg.seed,
           "decontaminate": cache.key_fields(cfg.decontaminate) | {
               "items": [collected.get(f"{n}.jsonl") for n in cfg.decontaminate.datasets]}}
    keys = [store.key(kind="signatures", shard=sha[p.name], **how) for p in shards]
    todo = list(dict.fromkeys(k for k in keys if store.get(k) is None))
    if todo:
        _sign(cfg, [shards[keys.index(k)] for k in todo], todo, store, items, buckets, per_bucket, out_dir, ctx)

    units = [store.get(k) for k in keys]
    removed = _decide(cfg, units, buckets, per_bucket)

    docs_in = docs_out = 0
    reasons: Counter = Counter()
    clusters: Counter = Counter()
    rows = []
    for i, (shard, unit, gone) in enumerate(zip(shards, units, removed)):
        n = unit_info(unit)["docs"]
        docs_in += n
        docs_out += n - len(gone)
        for r in gone.values():
            reasons[r["reason"]] += 1
            if r["reason"] == "minhash":
                clusters[r["of"]] += 1
            rows.append(r)
        if not gone:
            link(shard, out_dir / "shards" / f"{i:05d}.jsonl.gz")
            continue
        digest = hashlib.sha256(json.dumps(sorted(gone.items())).encode()).hexdigest()
        result = store.put(store.key(kind="kept", shard=sha[shard.name], removed=digest, code=ctx.code_version),
                           lambda unit, shard=shard, gone=gone: _split(shard, gone, unit))
        if (result / "kept.jsonl.gz").exists():  # absent when every doc of the shard went
            link(result / "kept.jsonl.gz", out_dir / "shards" / f"{i:05d}.jsonl.gz")
        link(result / "removed.jsonl.gz", out_dir / "removed" / f"{i:05d}.jsonl.gz")
    write_jsonl(out_dir / "removed_ids.jsonl", rows)
    sizes = {doc_id: n + 1 for doc_id, n in clusters.items()}  # a survivor and its near copies
    hist = Counter(sizes.values())
    (out_dir / "clusters.json").write_text(json.dumps(
        {"size_histogram": {str(k): v for k, v in sorted(hist.items())}, "clusters": sizes}, indent=1),
        encoding="utf-8")

    history = _against_history(ctx, [sha[p.name] for p in shards], removed, shards, units)
    metrics = dict(
        docs_in=docs_in, docs_out=docs_out, exact_removed=reasons["exact"], minhash_removed=reasons["minhash"],
        decontam_removed=reasons["contaminated"], clusters=len(sizes), max_cluster_size=max(sizes.values(), default=1),
        num_buckets=buckets, hashes_per_bucket=per_bucket, shards=len(shards), shards_signed=len(todo),
        **history, seconds=round(time.time() - t0, 3))
    metrics["docs_per_s"] = round(docs_in / max(metrics["seconds"], 1e-9), 1)
    assert docs_in == docs_out + sum(reasons.values()), metrics
    ctx.log.info("dedup: %d in, %d exact, %d near-dup, %d contaminated removed, %d out; %d of %d shards read in "
                 "this run, %d copies of earlier data removed", docs_in, reasons["exact"], reasons["minhash"],
                 reasons["contaminated"], docs_out, len(todo), len(shards), history["history_removed"])
    return StageResult(metrics=metrics, artifacts=["removed_ids.jsonl", "clusters.json"],
                       summary={"lsh": [buckets, per_bucket], "shards": [sha[p.name] for p in shards]})


def _sign(cfg: DedupConfig, shards: list[Path], keys: list[str], store: UnitStore, items: dict[str, Path],
          buckets: int, per_bucket: int, out_dir: Path, ctx: StageContext) -> None:
    """One datatrove task per new shard: exact hash, MinHash signature and eval-item match of each doc."""
    from datatrove.pipeline.readers import JsonlReader

    from zerollm.dedup.signatures import ShardSignatures
    from zerollm.executors import run_pipeline as run_datatrove

    work = out_dir / "work"
    for j, p in enumerate(shards):
        link(p, work / "in" / f"{j:05d}.jsonl.gz")
    step = ShardSignatures(str(work / "out"), cfg, buckets, per_bucket,
                           [str(f) for f in items.values()] if cfg.decontaminate.enabled else [])
    with stderr_to(out_dir / "logs" / "console.log"):
        run_datatrove(ctx.data, [JsonlReader(str(work / "in"), glob_pattern="*.jsonl.gz", add_file_path=False), step],
                      len(shards), min(cfg.workers, len(shards)), out_dir / "logs" / "signatures", "dedup")
    for j, key in enumerate(keys):
        done = work / "out" / f"{j:05d}"
        store.adopt(key, done, {"docs": len(read_jsonl(done / DOCS))})
    shutil.rmtree(work)


def _decide(cfg: DedupConfig, units: list[Path], buckets: int, per_bucket: int) -> list[dict[int, dict]]:
    """Per shard, {doc index: why it goes}, deciding every doc in corpus order against all kept before it."""
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=buckets * per_bucket, params=(buckets, per_bucket))
    first: dict[str, str] = {}  # normalized-text hash -> id of its first doc
    kept_ids: dict[int, str] = {}  # LSH key (corpus position) -> doc id
    out = []
    pos = 0
    for unit in units:
        docs = read_jsonl(unit / DOCS)
        sigs = np.load(unit / SIGS, allow_pickle=False) if cfg.minhash else None
        gone: dict[int, dict] = {}
        for n, d in enumerate(docs):
            pos += 1
            if cfg.exact and d["exact"] in first:
                gone[n] = {"id": d["id"], "reason": "exact", "of": first[d["exact"]]}
                continue
            first.setdefault(d["exact"], d["id"])
            if cfg.minhash and d["signed"]:
                # datatrove's permutations are datasketch's legacy formula, (a*h + b) mod 2^61-1
                m = LeanMinHash(seed=cfg.seed, hashvalues=sigs[n], scheme="legacy")
                hits = lsh.query(m)
                if hits:
                    gone[n] = {"id": d["id"], "reason": "minhash", "of": kept_ids[min(hits)]}
                    continue
                lsh.insert(pos, m, check_duplication=False)
                kept_ids[pos] = d["id"]
            if d.get("contaminated_with"):
                gone[n] = {"id": d["id"], "reason": "contaminated", "matches": d["contaminated_with"]}
        out.append(gone)
    return out


def _split(shard: Path, gone: dict[int, dict], unit: Path) -> None:
    with ShardWriter(unit, "kept", docs_per_shard=1 << 62) as kept, \
            ShardWriter(unit, "removed", docs_per_shard=1 << 62) as removed:
        for n, doc in enumerate(read_docs([shard])):
            if n in gone:
                doc.setdefault("metadata", {})["dedup"] = {k: v for k, v in gone[n].items() if k != "id"}
                removed.write(doc)
            else:
                kept.write(doc)
    for name in ("kept", "removed"):
        if (unit / f"{name}-00000.jsonl.gz").exists():
            (unit / f"{name}-00000.jsonl.gz").rename(unit / f"{name}.jsonl.gz")


def _against_history(ctx: StageContext, shas: list[str], removed: list[dict], shards: list[Path],
                     units: list[Path]) -> dict[str, int]:
    """What this corpus adds to the workdir's previous dedup output: shards and documents new since then, and
    the new documents removed as copies of earlier ones."""
    prev = cache.latest_manifest(ctx.workdir, "dedup")
    before = set(prev.summary.get("shards", [])) if prev else set()
    new = [i for i, s in enumerate(shas) if s not in before]
    docs_new = sum(unit_info(units[i])["docs"] for i in new)
    copies = [r["of"] for i in new for r in removed[i].values() if r["reason"] in ("exact", "minhash")]
    history_removed = 0
    if copies and len(new) < len(shas):
        fresh = set(new)
        old_ids = {d["id"] for j, u in enumerate(units) if j not in fresh for d in read_jsonl(u / DOCS)}
        history_removed = sum(of in old_ids for of in copies)
    return {"shards_new": len(new), "docs_new": docs_new, "history_removed": history_removed,
            "shards_gone": len(before - set(shas)) if prev else 0}


STAGE = Stage(
    name="dedup", config=DedupConfig, run=run, inputs=("collect", "filter"),
    reads="filter: shards; collect: eval set for decontamination",
    writes="shards/*.jsonl.gz one survivor per cluster, removed ids, cluster sizes",
    view="zerollm.dedup.view",
)
