"""Stage keys and manifests: the single source of truth for "is this stage done?".

A stage directory counts as done only when its MANIFEST.json exists and every file it lists still
has the recorded size and sha256. Prefect's cache mirrors this but never replaces it (Prefect does
not look at files on disk).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from zerollm.io.hashing import sha256_file, short_hash

MANIFEST = "MANIFEST.json"
KEY_LEN = 16
CACHE_FORMAT = 2  # bump when the manifest/key scheme itself changes (2: code versions derived from imports)


def key_fields(model) -> dict:
    """The config as it enters the key: fields marked `json_schema_extra={"cache_key": False}` (worker
    counts, threads, profiling) change how fast a stage runs, not what it writes."""
    from pydantic import BaseModel

    out = {}
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("cache_key") is False:
            continue
        value = getattr(model, name)
        out[name] = _key_value(value, BaseModel)
    return out


def _key_value(value, base):
    if isinstance(value, base):
        return key_fields(value)
    if isinstance(value, (list, tuple)):
        return [_key_value(v, base) for v in value]
    if isinstance(value, dict):
        return {k: _key_value(v, base) for k, v in value.items()}
    return value


def stage_key(stage: str, cfg_fields: dict, input_keys: dict[str, str], code: str, fingerprint: Any = None) -> str:
    """Same config, same inputs, same code (and same fingerprint) -> same key -> same directory."""
    return short_hash({"format": CACHE_FORMAT, "stage": stage, "config": cfg_fields,
                       "inputs": dict(sorted(input_keys.items())), "code": code, "fingerprint": fingerprint}, KEY_LEN)


@dataclass
class Manifest:
    stage: str
    key: str
    config: dict
    inputs: dict[str, str]
    files: dict[str, dict]  # relpath -> {"size", "sha256"}
    metrics: dict[str, float]
    summary: dict = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    seconds: float = 0.0
    mlflow_run_id: str | None = None
    code_version: str = ""
    code: dict[str, str] = field(default_factory=dict)  # project file -> digest of its normalized source
    fingerprint: str = ""  # hash of the stage's fingerprint (e.g. content of local input files)
    run_id: str | None = None  # the zerollm run that built it

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False)

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # an older or newer zerollm's extra fields


def stage_dir(workdir: Path, stage: str, key: str) -> Path:
    return Path(workdir) / "stages" / stage / key


NOT_BUILT = "not built"


def check(out_dir: Path, check_hash: bool = True) -> tuple[Manifest | None, str | None]:
    """The manifest if the directory is a complete, intact stage output; else None and what is wrong."""
    mpath = out_dir / MANIFEST
    if not mpath.is_file():
        return None, ("missing its manifest (an unfinished or removed output)" if out_dir.exists() else NOT_BUILT)
    try:
        manifest = Manifest.read(mpath)
    except (ValueError, TypeError, KeyError):
        return None, "corrupt: unreadable manifest"
    for rel, meta in manifest.files.items():
        f = out_dir / rel
        try:
            if f.stat().st_size != meta["size"]:
                return None, f"corrupt: {rel} changed size"
        except OSError:
            return None, f"missing: {rel}"
        if check_hash and sha256_file(f) != meta["sha256"]:
            return None, f"corrupt: {rel} changed content"
    return manifest, None


def verify(out_dir: Path, check_hash: bool = True) -> Manifest | None:
    """Return the manifest if the directory is a complete, intact stage output, else None."""
    return check(out_dir, check_hash)[0]


def latest_manifest(workdir: Path, stage: str, exclude_key: str | None = None) -> Manifest | None:
    """The stage's newest committed output in this workdir: what `plan` compares a new key against."""
    best: Manifest | None = None
    for mpath in (Path(workdir) / "stages" / stage).glob(f"*/{MANIFEST}"):
        if mpath.parent.name == exclude_key:
            continue
        try:
            m = Manifest.read(mpath)
        except (OSError, ValueError, TypeError):
            continue
        if best is None or m.finished > best.finished:
            best = m
    return best


@contextlib.contextmanager
def stage_lock(final: Path, log=None):
    """One writer per stage key across processes (two runs on one workdir): an exclusive flock on
    `<key>.lock`, released by the kernel even on kill -9. Yields True when it had to wait; the caller
    looks again for a finished output in any case (another run may have built it since the plan)."""
    import fcntl

    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f"{final.name}.lock", "a+") as fh:
        waited = False
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            if log is not None:
                log.info("%s: another run is writing %s; waiting for it", final.parent.name, final.name)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield waited
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_tmp_dir(final: Path) -> Path:
    """A fresh sibling directory to write into; leftovers of killed runs are swept first."""
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in [*final.parent.glob(f"{final.name}.tmp-*"), *final.parent.glob(f"{final.name}.old-*")]:
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = final.parent / f"{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def process_alive(pid: int) -> bool:
    """Another live process has this pid (this process counts as not alive: its leftovers are stale)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_files(root: Path) -> dict[str, dict]:
    files = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.name != MANIFEST:
            files[str(f.relative_to(root))] = {"size": f.stat().st_size, "sha256": sha256_file(f)}
    return files


def commit(tmp: Path, final: Path, manifest: Manifest) -> Manifest:
    """Write the manifest last, then move the directory into place atomically."""
    manifest.files = list_files(tmp)
    manifest.finished = time.time()
    manifest.seconds = round(manifest.finished - manifest.started, 3)
    mtmp = tmp / (MANIFEST + ".part")
    mtmp.write_text(manifest.to_json(), encoding="utf-8")
    with open(mtmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(mtmp, tmp / MANIFEST)
    if final.exists():  # a forced rerun or a broken earlier output: swap it out
        trash = final.parent / f"{final.name}.old-{os.getpid()}"
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)
    return manifest
