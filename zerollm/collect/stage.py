"""collect: every source into normalized JSONL.gz shards (`id`, `text`, `metadata.source`), plus the
evaluation, SFT and preference sets later stages read.

Bad input never crashes the stage: each unit is either written or rejected with a reason, rejects
are sampled to rejects.jsonl, and `in = out + rejected` is asserted before the stage commits.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from zerollm.cache import sha256_file
from zerollm.collect.config import CollectConfig, HfSource, SyntheticConfig, UrlSource, source_name
from zerollm.collect.sources import Doc, Reject, expand, read_hf, read_local, read_url
from zerollm.io.shards import ShardWriter, write_jsonl
from zerollm.stage import StageContext, StageResult

Config = CollectConfig
SIDE_DATASETS = ("eval_qa", "sft", "preference")


class CollectError(RuntimeError):
    pass


def fingerprint(cfg: CollectConfig, ctx: StageContext) -> dict:
    """Content hashes of local input files: edited data must invalidate the cache even if paths don't change."""
    out = {}
    for i, src in enumerate(cfg.sources):
        if hasattr(src, "path"):
            files = expand(src.path)
        elif isinstance(src, HfSource) and Path(src.dataset).is_dir():  # a local dataset folder
            files = sorted(p for p in Path(src.dataset).rglob("*") if p.is_file())
        else:
            continue  # synthetic: the config is the content; url: its sha256 is in the config
        out[str(i)] = [[str(f), sha256_file(f)] for f in files]
    return out


def run(cfg: CollectConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    counts: Counter = Counter()
    per_source: Counter = Counter()
    rejects: dict[str, list] = defaultdict(list)
    side: dict[str, list] = {name: [] for name in SIDE_DATASETS}
    seen_ids: set[str] = set()
    n_in = 0

    def reject(r: Reject, src_name: str) -> None:
        counts[f"rejected_{r.reason}"] += 1
        counts["rejected"] += 1
        if len(rejects[r.reason]) < cfg.rejects_sample:
            rejects[r.reason].append({"reason": r.reason, "source": src_name, "where": r.where, "sample": r.sample})

    with ShardWriter(out_dir / "datasets" / "pretrain", docs_per_shard=cfg.docs_per_shard) as writer:
        for i, src in enumerate(cfg.sources):
            name = source_name(src)
            for item in _iter_source(i, src, ctx, side, out_dir):
                n_in += 1
                if isinstance(item, Doc):
                    item = _check(item, cfg, seen_ids)
                if isinstance(item, Reject):
                    reject(item, name)
                    continue
                seen_ids.add(item.id)
                writer.write({"id": item.id, "text": item.text, "metadata": {"source": name, **item.meta}})
                per_source[name] += 1
        n_out = writer.count

    if n_in != n_out + counts["rejected"]:
        raise CollectError(f"accounting error: {n_in} in != {n_out} out + {counts['rejected']} rejected")
    if n_out == 0:
        raise CollectError(f"no documents collected ({counts['rejected']} rejected; see rejects.jsonl)")
    for name, rows in side.items():
        write_jsonl(out_dir / "datasets" / f"{name}.jsonl", rows)
    write_jsonl(out_dir / "rejects.jsonl", [r for rs in rejects.values() for r in rs])
    for reason, n in sorted(counts.items()):
        if reason.startswith("rejected_"):
            ctx.log.warning("collect rejected %d inputs: %s (samples in rejects.jsonl)", n, reason[9:])

    metrics = {"docs_in": n_in, "docs_out": n_out, "rejected": counts["rejected"], "shards": len(writer.paths),
               **{k: v for k, v in counts.items() if k.startswith("rejected_")},
               **{f"docs_{k}": len(v) for k, v in side.items()}}
    summary = {"per_source": dict(per_source)}
    (out_dir / "stats.json").write_text(json.dumps({"metrics": metrics, **summary}, indent=2), encoding="utf-8")
    return StageResult(metrics=metrics, artifacts=["stats.json", "rejects.jsonl"], summary=summary)


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


def _iter_source(i: int, src, ctx: StageContext, side: dict, out_dir: Path):
    if isinstance(src, SyntheticConfig):
        yield from _synthetic(src, side, out_dir)
    elif isinstance(src, HfSource):
        yield from read_hf(src)
    elif isinstance(src, UrlSource):
        yield from read_url(src, ctx.workdir / "cache" / "downloads")
    else:
        files = expand(src.path)
        if not files:
            raise CollectError(f"collect.sources[{i}].path: no files match {src.path!r}")
        yield from read_local(src, files)


def _synthetic(src: SyntheticConfig, side: dict, out_dir: Path):
    from zerollm.collect.synthetic import generate

    data = generate(src)
    name = source_name(src)
    for key in SIDE_DATASETS:
        side[key].extend({**row, "source": name} for row in getattr(data, key))
    # ground truth of the planted dirt: kept beside the data, never read by filter/dedup
    write_jsonl(out_dir / "truth" / f"{name}.jsonl", data.truth)
    for d in data.docs:
        yield Doc(d["id"], d["text"], {})
