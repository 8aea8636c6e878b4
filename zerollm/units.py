"""Content-addressed results of one input file or shard, shared by every run of a workdir.

A data stage's key changes whenever any of its inputs does (one new file changes collect's key,
and so every later key), but most of its work is per file or per shard. That work is kept here,
under `<workdir>/units/<stage>/<unit key>/`, keyed by what it read (content hashes) and how (the
stage's code version and the config fields that matter). A stage run looks each unit up, builds
only the missing ones, and hardlinks the results into its output directory: new data is the only
new work, and the output is byte for byte what a full run writes.

A unit is done when its directory exists (built in a temporary sibling, renamed into place last);
two runs building the same unit both succeed and one result is kept.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from zerollm.io.hashing import short_hash

UNITS = "units"
DONE = "UNIT.json"
KEY_LEN = 20


class UnitStore:
    def __init__(self, workdir: Path, stage: str):
        self.root = Path(workdir) / UNITS / stage

    @staticmethod
    def key(**material: Any) -> str:
        return short_hash(material, KEY_LEN)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Path | None:
        d = self.path(key)
        return d if (d / DONE).is_file() else None

    def put(self, key: str, build: Callable[[Path], dict | None]) -> Path:
        """Build the unit into a temporary directory (`build(tmp)` returns what to record beside it)."""
        done = self.get(key)
        if done is not None:
            return done
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f"{key}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            info = build(tmp) or {}
            (tmp / DONE).write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
            try:
                os.rename(tmp, final)
            except OSError as exc:  # another run finished the same unit first: keep its copy
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    def adopt(self, key: str, src: Path, info: dict | None = None) -> Path:
        """Move an already built directory (a datatrove task's output) in as unit `key`."""
        def build(tmp: Path) -> dict:
            for f in Path(src).iterdir():
                os.replace(f, tmp / f.name)
            return info or {}
        return self.put(key, build)


def info(unit: Path) -> dict:
    return json.loads((unit / DONE).read_text(encoding="utf-8"))


def link(src: Path, dest: Path) -> None:
    """Hardlink `src` to `dest` (a copy where the filesystem can't link). Units are never written after
    they are done, so a link is as safe as a copy and costs no space."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(src, dest)


def input_hashes(stage_dir: Path, sub: str) -> dict[str, str]:
    """sha256 of the files under `sub` of an input stage directory (name within `sub` -> sha256): as its
    manifest records them (no second read), else hashed now (a stage run on its own, on a bare folder)."""
    from zerollm.cache import MANIFEST, Manifest
    from zerollm.io.hashing import sha256_file

    mpath = Path(stage_dir) / MANIFEST
    prefix = sub.rstrip("/") + "/"
    if mpath.is_file():
        files = Manifest.read(mpath).files
        return {rel[len(prefix):]: meta["sha256"] for rel, meta in files.items() if rel.startswith(prefix)}
    root = Path(stage_dir) / sub
    return {str(f.relative_to(root)): sha256_file(f) for f in sorted(root.rglob("*")) if f.is_file()}
