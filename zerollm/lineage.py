"""The parent of a continued model: which pretrained model a `pretrain.init: continue` run starts from,
the tokenizer it keeps, and the data the parent already saw.

The parent is the newest committed pretrain output of the workdir (a scheduled run continues from
what the previous run trained), or the pretrain output directory `pretrain.parent` names. Everything
is read from committed manifests, so a parent is never a half-written directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from zerollm import cache


class NoParent(ValueError):
    pass


@dataclass(frozen=True)
class Parent:
    pretrain: Path  # its committed pretrain output directory
    key: str  # that output's stage key
    tokenizer: Path  # the tokenizer output it trained on
    tokenizer_config: dict  # that tokenizer's config as it entered the key

    def index(self) -> dict:
        return json.loads((self.tokenizer / "index.json").read_text(encoding="utf-8"))

    def seen_shards(self) -> set[str]:
        """The dedup shards (sha256) whose tokens the parent trained on: its tokenizer's units."""
        return {u["shard"] for u in self.index().get("units", [])}


def find_parent(workdir: Path, ref: str | None = None, data: str | None = None) -> Parent:
    """The parent model, or NoParent saying why there is none.

    `data`: the dedup key this run trains on. A pretrain output trained on that very data is this run's own
    result from before, not its parent: the lineage steps back to that output's parent, so a scheduled run
    with nothing new plans the same keys and reuses everything.
    """
    workdir = Path(workdir)
    if ref:
        where = Path(ref) if Path(ref).is_absolute() else workdir / ref
        manifest = cache.verify(where, check_hash=False)
        if manifest is None or manifest.stage != "pretrain":
            raise NoParent(f"pretrain.parent: {ref!r} is not a finished pretrain output directory; allowed: a "
                           f"stages/pretrain/<key> directory (relative to the workdir, or absolute)")
        return _parent(where, manifest)
    manifest = cache.latest_manifest(workdir, "pretrain")
    if manifest is None:
        raise NoParent("pretrain.init: continue, but this workdir has no pretrained model yet; allowed: scratch "
                       "(the first run), or auto (scratch until there is a model to continue)")
    while data is not None and _trained_on(workdir, manifest) == data:
        parent_key = (manifest.summary.get("lineage") or {}).get("parent_key")
        manifest = cache.verify(cache.stage_dir(workdir, "pretrain", parent_key), check_hash=False) \
            if parent_key else None
        if manifest is None:
            raise NoParent("pretrain.init: continue, but the only pretrained models of this workdir were trained "
                           "on this very data: nothing new to continue with; allowed: auto, scratch")
    return _parent(cache.stage_dir(workdir, "pretrain", manifest.key), manifest)


def _trained_on(workdir: Path, manifest: cache.Manifest) -> str | None:
    """The dedup key of the data a pretrain output trained on."""
    tok = cache.verify(cache.stage_dir(workdir, "tokenizer", manifest.inputs.get("tokenizer", "")), check_hash=False)
    return tok.inputs.get("dedup") if tok else None


def _parent(where: Path, manifest: cache.Manifest) -> Parent:
    tok = cache.stage_dir(where.parents[2], "tokenizer", manifest.inputs["tokenizer"])
    tok_manifest = cache.verify(tok, check_hash=False)
    if tok_manifest is None:
        raise NoParent(f"pretrain.parent: the tokenizer output {tok} that {where.name} trained on is gone; allowed: "
                       "scratch, or a parent whose tokenizer output is still in its workdir")
    if "units" not in json.loads((tok / "index.json").read_text(encoding="utf-8")):
        raise NoParent(f"pretrain.parent: {where} was trained on a tokenizer output made by an older zerollm (it "
                       "does not record which shards it encoded); allowed: scratch")
    return Parent(where, manifest.key, tok, tok_manifest.config)


def parent_for(init: str, workdir: Path, ref: str | None = None, data: str | None = None) -> Parent | None:
    """The parent a pretrain run with `init` continues from: None for scratch, and for auto when there is none
    (a scheduled lineage's first run); NoParent when continue finds none."""
    if init == "scratch":
        return None
    try:
        return find_parent(workdir, ref, data)
    except NoParent:
        if init == "auto" and not ref:
            return None
        raise


def upstream(workdir: Path, manifest: cache.Manifest) -> dict[str, cache.Manifest]:
    """Every committed output a stage output was built from, by stage name (its own included)."""
    found = {manifest.stage: manifest}
    todo = list(manifest.inputs.items())
    while todo:
        stage, key = todo.pop()
        if stage in found:
            continue
        m = cache.verify(cache.stage_dir(workdir, stage, key), check_hash=False)
        if m is not None:
            found[stage] = m
            todo += list(m.inputs.items())
    return found


def model_lineage(workdir: Path, manifest: cache.Manifest) -> dict:
    """What a registered model saw and where it came from: the data snapshot (source files and dedup shards,
    each by sha256), its pretrain output and that output's parent (a continued lineage)."""
    from zerollm.io.hashing import short_hash

    up = upstream(workdir, manifest)
    files = sorted((u["unit"], u["sha256"]) for u in (up["collect"].summary.get("snapshot", [])
                                                         if "collect" in up else []))
    shards = sorted(up["dedup"].summary.get("shards", [])) if "dedup" in up else []
    pre = up.get("pretrain")
    grown = (pre.summary.get("lineage") or {}) if pre else {}
    return {"data_snapshot": short_hash({"files": files, "shards": shards}, 16), "source_files": len(files),
            "shards": len(shards), "pretrain_key": pre.key if pre else "", "init": grown.get("init", "scratch"),
            "parent_pretrain_key": grown.get("parent_key", ""),
            "snapshot": {"files": [list(f) for f in files], "shards": shards}}
