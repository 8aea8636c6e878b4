"""Stage keys and manifests: the single source of truth for "is this stage done?".

A stage directory counts as done only when its MANIFEST.json exists and every file it lists still
has the recorded size and sha256. Prefect's cache mirrors this but never replaces it (Prefect does
not look at files on disk).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
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
        """OSError if the file can't be read; ValueError, naming the field, if its content is not a manifest
        (bad JSON, a missing field, a field of the wrong type, a malformed `files` entry)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(f"manifest is not UTF-8 (byte {exc.start})") from None
        except ValueError as exc:
            raise ValueError(f"manifest is not valid JSON ({exc})") from None
        except RecursionError:
            raise ValueError("manifest is not valid JSON (nested too deeply)") from None
        return cls(**_checked_fields(cls, data))


_JSON_NAMES = {dict: "an object", str: "a string", float: "a number", int: "an integer", type(None): "null"}


def _got(value) -> str:
    return "null" if value is None else type(value).__name__


def _fits(value, hint) -> bool:
    """Parsed JSON `value` fits the annotation: str, float (an int too, not a bool), dict[...], X | None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    base = typing.get_origin(hint) or hint
    if isinstance(value, bool):
        return base is bool
    if base is float:
        return isinstance(value, (int, float))
    return isinstance(value, base)


def _expected(hint) -> str:
    hints = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    return " or ".join(_JSON_NAMES.get(typing.get_origin(h) or h, str(h)) for h in hints)


def _checked_fields(cls, data) -> dict:
    """The dataclass's fields from parsed JSON, each checked against its annotation; unknown keys (an older
    or newer zerollm's extra fields) are dropped."""
    if not isinstance(data, dict):
        raise ValueError(f"manifest: expected an object, got {_got(data)}")
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"manifest field {f.name!r}: missing")
            continue
        value = data[f.name]
        if not _fits(value, hints[f.name]):
            raise ValueError(f"manifest field {f.name!r}: expected {_expected(hints[f.name])}, got {_got(value)}")
        out[f.name] = value
    for rel, meta in out["files"].items():  # relpath -> {"size", "sha256"}: what check() reads
        where = f"manifest field 'files': entry {rel!r}"
        if not isinstance(meta, dict):
            raise ValueError(f"{where}: expected an object, got {_got(meta)}")
        size = meta.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"{where}: 'size' expected an integer >= 0, got {_got(size)}")
        if not isinstance(meta.get("sha256"), str):
            raise ValueError(f"{where}: 'sha256' expected a string, got {_got(meta.get('sha256'))}")
    return out


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
    except OSError as exc:
        return None, f"corrupt: unreadable manifest ({exc.strerror or exc})"
    except ValueError as exc:  # bad JSON, or a field of the wrong type: never a crash, just not done
        return None, f"corrupt: {exc}"
    for rel, meta in manifest.files.items():
        f = out_dir / rel
        try:
            if f.stat().st_size != meta["size"]:
                return None, f"corrupt: {rel} changed size"
        except (OSError, ValueError):  # ValueError: a listed path with a NUL byte
            return None, f"missing: {rel}"
        try:
            if check_hash and sha256_file(f) != meta["sha256"]:
                return None, f"corrupt: {rel} changed content"
        except OSError as exc:  # a directory listed as a file, permissions
            return None, f"corrupt: {rel} unreadable ({exc.strerror or exc})"
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
