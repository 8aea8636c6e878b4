"""collect: every source into normalized JSONL.gz shards (`id`, `text`, `metadata.source`), plus the
chat/task datasets later stages read: datasets/{sft,preference,prompts,eval}.jsonl (schemas in chat.py).

Bad input never crashes the stage: each unit is either written or rejected with a reason, rejects
are sampled to rejects.jsonl, and `in = out + rejected` is asserted, for the pretraining documents
and for each dataset, before the stage commits.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from zerollm.io.hashing import sha256_file
from zerollm.collect.chat import normalise
from zerollm.collect.config import (
    CollectConfig, HfRows, HfSource, JsonlRows, ParquetRows, SyntheticConfig, UrlSource, source_name,
)
from zerollm.collect.sources import (
    READABLE_AS, Doc, Record, Reject, expand, read_hf, read_local, read_rows, read_url, sniff,
)
from zerollm.io.shards import ShardWriter, read_docs, write_jsonl
from zerollm.stage import Stage, StageContext, StageResult
from zerollm.units import UnitStore, info as unit_info, link

Config = CollectConfig
# eval last: its `seen` flag needs the facts the training datasets state
DATASETS = ("sft", "preference", "prompts", "eval")


class CollectError(RuntimeError):
    pass


def fingerprint(cfg: CollectConfig, ctx: StageContext) -> dict:
    """Content hashes of local input files: edited data must invalidate the cache even if paths don't change."""
    out = {}
    listed = [(str(i), src) for i, src in enumerate(cfg.sources)]
    listed += [(f"{kind}.{i}", src) for kind in DATASETS for i, src in enumerate(getattr(cfg, kind) or [])]
    for key, src in listed:
        if hasattr(src, "path"):
            files = expand(src.path)
        elif isinstance(src, (HfSource, HfRows)) and Path(src.dataset).is_dir():  # a local dataset folder
            files = sorted(p for p in Path(src.dataset).rglob("*") if p.is_file())
        else:
            continue  # synthetic: the config is the content; url: its sha256 is in the config
        out[key] = [[str(f), sha256_file(f)] for f in files]
    return out


def check(cfg: CollectConfig, pipeline, ctx: StageContext) -> list[str]:
    """Local paths that match no files, or only files none of which its reader can read (binary, empty, not
    UTF-8, not that format: a 64 KiB sniff per file, stopping at the first readable one), before an hour of
    work is spent on the rest. Some readable files and some not is no problem here: the reader rejects those."""
    problems = []
    listed = [(f"collect.sources[{i}]", src) for i, src in enumerate(cfg.sources)]
    listed += [(f"collect.{kind}[{i}]", src) for kind in DATASETS for i, src in enumerate(getattr(cfg, kind) or [])]
    for key, src in listed:
        if not hasattr(src, "path"):
            continue
        files = expand(src.path)
        if not files and getattr(src, "optional", False):
            continue
        if not files:
            problems.append(f"{key}.path: {src.path!r} matches no files (relative to {Path.cwd()}); allowed: an "
                            "existing file or a glob that matches one")
            continue
        why = []
        for f in files:
            reason = sniff(f, src.type)
            if reason is None:
                break
            why.append(f"{f.name}: {reason}")
        else:
            more = f", +{len(why) - 3} more" if len(why) > 3 else ""
            problems.append(f"{key}.path: {src.path!r} matches {len(files)} file(s), none readable as {src.type} "
                            f"({', '.join(why[:3])}{more}); allowed: {READABLE_AS[src.type]}")
    embedded = cfg.embedded_chat_sets()
    if embedded:
        ctx.log.warning("collect: %s unset and no synthetic world among collect.sources: they come from the "
                        "embedded world", ", ".join(f"collect.{k}" for k in embedded))
    return problems


def run(cfg: CollectConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    """The pretraining documents are read per source file (a unit, zerollm.units): a run reads only the
    files it has not seen, and links the shards of the rest."""
    counts: Counter = Counter()
    per_source: Counter = Counter()
    rejects: dict[tuple[str, str], list] = defaultdict(list)
    worlds: dict[str, object] = {}  # generate() once per synthetic config in this run
    seen_ids: set[str] = set()
    store = UnitStore(ctx.workdir, "collect")
    snapshot = []  # what the corpus was made of: lineage, and `zerollm compare`'s "what changed in the data"
    n_in = n_out = shards = read = 0

    def reject(r: Reject, src_name: str, dataset: str = "pretrain") -> None:
        samples = rejects[(dataset, r.reason)]
        if len(samples) < cfg.rejects_sample:
            samples.append({"dataset": dataset, "reason": r.reason, "source": src_name, "where": r.where,
                            "sample": r.sample})

    def write_rejects() -> None:
        write_jsonl(out_dir / "rejects.jsonl", [r for rs in rejects.values() for r in rs])

    pretrain = out_dir / "datasets" / "pretrain"
    pretrain.mkdir(parents=True)
    for i, src in enumerate(cfg.sources):
        name = source_name(src)
        for key, files, what in _units(i, src, cfg, ctx):
            unit = store.get(key)
            if unit is None:
                read += 1
                unit = store.put(key, lambda tmp, i=i, src=src, files=files: _read_unit(
                    i, src, files, cfg, ctx, worlds, tmp))
            info = unit_info(unit)
            n_in += info["in"]
            counts.update(info["rejected"])
            for row in info["rejects"]:
                reject(Reject(row["reason"], row["where"], row["sample"]), name)
            ids = (unit / "ids.txt").read_text(encoding="utf-8").splitlines()
            clash = seen_ids.intersection(ids)
            if clash:  # an id an earlier file already has: that file's copy stays (as in one stream)
                ctx.log.warning("collect: %d document id(s) of %s were already taken by an earlier file: rejected "
                                "as duplicate_id", len(clash), what)
            seen_ids.update(ids)
            kept = info["out"] - len(clash)
            for shard in sorted(unit.glob("shard-*.jsonl.gz")):
                dest = pretrain / f"{shards:05d}.jsonl.gz"
                shards += 1
                if clash:
                    with ShardWriter(pretrain, f"{dest.name[:5]}.tmp", docs_per_shard=1 << 62) as w:
                        for doc in read_docs([shard]):
                            if doc["id"] in clash:
                                clash.discard(doc["id"])
                                reject(Reject("duplicate_id", doc["id"], doc["text"][:120]), name)
                                counts.update(rejected_duplicate_id=1, rejected=1)
                            else:
                                w.write(doc)
                    if w.paths:
                        w.paths[0].rename(dest)
                else:
                    link(shard, dest)
            for truth in (unit / "truth").glob("*.jsonl"):
                link(truth, out_dir / "truth" / truth.name)
            n_out += kept
            per_source[name] += kept
            snapshot.append({"source": name, "unit": what, "sha256": info.get("sha256", key), "docs": kept})

    if n_in != n_out + counts["rejected"]:
        raise CollectError(f"accounting error: {n_in} in != {n_out} out + {counts['rejected']} rejected")
    if n_out == 0:
        write_rejects()
        where = ctx.failed_dir / "rejects.jsonl" if ctx.failed_dir else out_dir / "rejects.jsonl"
        raise CollectError(f"no documents collected ({counts['rejected']} rejected; samples in {where})")
    for reason, n in sorted(counts.items()):
        if reason.startswith("rejected_"):
            ctx.log.warning("collect rejected %d inputs: %s (samples in rejects.jsonl)", n, reason[9:])
    ctx.log.info("collect: %d of %d source files read in this run, %d reused", read, len(snapshot),
                 len(snapshot) - read)

    ds_metrics: dict = {}
    ds_sources: dict = {}
    taught: set[str] = set()  # facts stated by sft, preference and prompt rows
    for kind in DATASETS:
        m, ds_sources[kind] = _dataset(kind, cfg, ctx, out_dir, worlds, taught, reject)
        ds_metrics.update(m)
    write_rejects()

    metrics = {"docs_in": n_in, "docs_out": n_out, "rejected": counts["rejected"], "shards": shards,
               "files": len(snapshot), **{k: v for k, v in counts.items() if k.startswith("rejected_")}, **ds_metrics}
    summary = {"per_source": dict(per_source), "datasets": ds_sources, "snapshot": snapshot}
    (out_dir / "stats.json").write_text(json.dumps({"metrics": metrics, **summary}, indent=2), encoding="utf-8")
    metrics["files_read"] = read  # this run's work, not part of the output (a rebuild reads none)
    return StageResult(metrics=metrics, artifacts=["stats.json", "rejects.jsonl"], summary=summary)


def _units(i: int, src, cfg: CollectConfig, ctx: StageContext):
    """(unit key, files, what) per unit of a source: each file of a local glob, else the whole source. The key
    holds what a unit's documents depend on: the file's bytes and path (ids carry it), the source's other
    settings, the document checks and the code."""
    how = {"code": ctx.code_version, "source": src.model_dump(mode="json", exclude={"path", "optional"}),
           "checks": [cfg.min_doc_chars, cfg.max_doc_bytes, cfg.docs_per_shard, cfg.rejects_sample]}
    if hasattr(src, "path"):
        files = expand(src.path)
        if not files and not src.optional:
            raise CollectError(f"collect.sources[{i}].path: no files match {src.path!r}")
        for f in files:
            yield UnitStore.key(file=f.as_posix(), sha256=sha256_file(f), **how), [f], f.as_posix()
    else:
        local = isinstance(src, HfSource) and Path(src.dataset).is_dir()
        content = [[str(f), sha256_file(f)] for f in sorted(Path(src.dataset).rglob("*")) if f.is_file()] \
            if local else None
        yield UnitStore.key(content=content, **how), None, source_name(src)


def _read_unit(i: int, src, files, cfg: CollectConfig, ctx: StageContext, worlds: dict, unit: Path) -> dict:
    """Read one unit into `unit`: its shards, ids.txt, and (returned) its counts and reject samples."""
    counts: Counter = Counter()
    samples: dict[str, list] = defaultdict(list)
    ids: list[str] = []
    seen: set[str] = set()
    n_in = 0
    items = read_local(src, files) if files is not None else _iter_source(i, src, ctx, worlds, unit)
    with ShardWriter(unit, docs_per_shard=cfg.docs_per_shard) as writer:
        for item in items:
            n_in += 1
            if isinstance(item, Doc):
                item = _check(item, cfg, seen)
            if isinstance(item, Reject):
                counts[f"rejected_{item.reason}"] += 1
                counts["rejected"] += 1
                if len(samples[item.reason]) < cfg.rejects_sample:
                    samples[item.reason].append({"reason": item.reason, "where": item.where, "sample": item.sample})
                continue
            seen.add(item.id)
            ids.append(item.id)
            writer.write({"id": item.id, "text": item.text, "metadata": {"source": source_name(src), **item.meta}})
    (unit / "ids.txt").write_text("".join(f"{x}\n" for x in ids), encoding="utf-8")
    return {"in": n_in, "out": writer.count, "rejected": dict(counts),
            "rejects": [r for rs in samples.values() for r in rs],
            "sha256": sha256_file(files[0]) if files else None}


def _dataset(kind: str, cfg: CollectConfig, ctx: StageContext, out_dir: Path, worlds: dict, taught: set[str],
             reject) -> tuple[dict, dict]:
    """Read, normalise and write one dataset; returns its metrics and rows kept per source.

    Eval rows get `seen`: their fact is stated by some sft, preference or prompt row, so a right
    answer may come from post-training rather than pretraining (reported apart).
    """
    counts: Counter = Counter()
    per_source: Counter = Counter()
    ids: set[str] = set()
    path = out_dir / "datasets" / f"{kind}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, src in enumerate(cfg.dataset_sources(kind)):
            name, fmt = source_name(src), getattr(src, "format", "auto")
            for rec in _dataset_records(kind, i, src, ctx, worlds):
                counts["in"] += 1
                row = rec if isinstance(rec, Reject) else normalise(kind, rec.value, fmt, rec.where,
                                                                     cfg.max_row_chars)
                if isinstance(row, dict):
                    own = row.pop("id", None)  # a row's own id, prefixed: two sources may both count 0..N
                    row = {"id": f"{name}:{own}" if own else rec.id, "source": name, **row}
                    if row["id"] in ids:
                        row = Reject("duplicate_id", rec.where, row["id"])
                if isinstance(row, Reject):
                    counts["rejected"] += 1
                    counts[f"rejected_{row.reason}"] += 1
                    reject(row, name, kind)
                    continue
                ids.add(row["id"])
                if kind == "eval":
                    row["seen"] = row.get("fact") in taught
                    counts["seen"] += row["seen"]
                else:
                    taught.update(row.get("facts", ()))
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                counts["out"] += 1
                per_source[name] += 1

    if counts["in"] != counts["out"] + counts["rejected"]:
        raise CollectError(f"{kind}: accounting error: {counts['in']} in != {counts['out']} out + "
                           f"{counts['rejected']} rejected")
    for key, n in sorted(counts.items()):
        if key.startswith("rejected_"):
            ctx.log.warning("collect %s: rejected %d rows: %s (samples in rejects.jsonl)", kind, n, key[9:])
    if counts["out"] == 0 and kind in ("sft", "eval"):
        ctx.log.warning("collect %s: no rows (%s)", kind,
                        "the model probes have nothing to score" if kind == "eval" else "sft has nothing to train on")
    metrics = {f"{kind}_{k}": counts[k] for k in ("in", "out", "rejected")}
    metrics.update({f"{kind}_{k}": v for k, v in counts.items() if k.startswith("rejected_")})
    if kind == "eval":
        metrics["eval_seen"] = counts["seen"]
    return metrics, dict(per_source)


def _dataset_records(kind: str, i: int, src, ctx: StageContext, worlds: dict):
    if isinstance(src, SyntheticConfig):
        name = source_name(src)
        for n, row in enumerate(getattr(_world(src, worlds), kind)):
            yield Record(row, f"{name}[{n}]", f"{name}:{n}")
        return
    files = []
    if isinstance(src, (JsonlRows, ParquetRows)):
        files = expand(src.path)
        if not files:
            raise CollectError(f"collect.{kind}[{i}].path: no files match {src.path!r}")
    yield from read_rows(src, files, ctx.workdir / "cache" / "downloads")


def _check(doc: Doc, cfg: CollectConfig, seen_ids: set[str]) -> Doc | Reject:
    text = doc.text.replace("\r\n", "\n")
    if len(text.strip()) < max(cfg.min_doc_chars, 1):
        return Reject("empty", doc.id)
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > cfg.max_doc_bytes:
        return Reject("too_large", doc.id, f"{size} bytes > max_doc_bytes={cfg.max_doc_bytes}: {text[:120]}")
    if "\x00" in text:
        return Reject("binary", doc.id, text[:120].replace("\x00", "\\0"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Reject("invalid_utf8", doc.id, text[:120].encode("utf-8", "replace").decode())
    if doc.id in seen_ids:
        return Reject("duplicate_id", doc.id, text[:120])
    doc.text = text
    return doc


def _iter_source(i: int, src, ctx: StageContext, worlds: dict, out_dir: Path):
    if isinstance(src, SyntheticConfig):
        yield from _synthetic(src, worlds, out_dir)
    elif isinstance(src, HfSource):
        yield from read_hf(src)
    elif isinstance(src, UrlSource):
        yield from read_url(src, ctx.workdir / "cache" / "downloads")
    else:
        files = expand(src.path)
        if not files:
            raise CollectError(f"collect.sources[{i}].path: no files match {src.path!r}")
        yield from read_local(src, files)


def _world(src: SyntheticConfig, worlds: dict):
    """generate() memoized per config: a world feeding the corpus and four datasets is built once."""
    from zerollm.collect.synthetic import generate

    key = src.model_dump_json()
    if key not in worlds:
        worlds[key] = generate(src)
    return worlds[key]


def _synthetic(src: SyntheticConfig, worlds: dict, out_dir: Path):
    data = _world(src, worlds)
    # ground truth of the planted dirt: kept beside the data, never read by filter/dedup
    write_jsonl(out_dir / "truth" / f"{source_name(src)}.jsonl", data.truth)
    for d in data.docs:
        yield Doc(d["id"], d["text"], {})


STAGE = Stage(
    name="collect", config=CollectConfig, run=run, fingerprint=fingerprint, check=check,
    reads="sources in config (synthetic world, local files, HF datasets, URLs)",
    writes="datasets/pretrain/*.jsonl.gz + sft/preference/eval/prompts JSONL (one chat form), rejects.jsonl",
    view="zerollm.collect.view", kept_on_failure=("rejects.jsonl",),
)
