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


def find_parent(workdir: Path, ref: str | None = None) -> Parent:
    """The parent model, or NoParent saying why there is none."""
    workdir = Path(workdir)
    if ref:
        where = Path(ref) if Path(ref).is_absolute() else workdir / ref
        manifest = cache.verify(where, check_hash=False)
        if manifest is None or manifest.stage != "pretrain":
            raise NoParent(f"pretrain.parent: {ref!r} is not a finished pretrain output directory; allowed: a "
                           f"stages/pretrain/<key> directory (relative to the workdir, or absolute)")
    else:
        manifest = cache.latest_manifest(workdir, "pretrain")
        if manifest is None:
            raise NoParent("pretrain.init: continue, but this workdir has no pretrained model yet; allowed: scratch "
                           "(the first run), or pretrain.parent: <a pretrain output directory>")
        where = cache.stage_dir(workdir, "pretrain", manifest.key)
    tok = cache.stage_dir(where.parents[2], "tokenizer", manifest.inputs["tokenizer"])
    tok_manifest = cache.verify(tok, check_hash=False)
    if tok_manifest is None:
        raise NoParent(f"pretrain.parent: the tokenizer output {tok} that {where.name} trained on is gone; allowed: "
                       "scratch, or a parent whose tokenizer output is still in its workdir")
    if "units" not in json.loads((tok / "index.json").read_text(encoding="utf-8")):
        raise NoParent(f"pretrain.parent: {where} was trained on a tokenizer output made by an older zerollm (it "
                       "does not record which shards it encoded); allowed: scratch")
    return Parent(where, manifest.key, tok, tok_manifest.config)
