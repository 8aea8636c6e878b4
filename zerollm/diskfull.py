"""A full disk said in one line: where the stage was writing and how much space it needs.

ENOSPC reaches the runner in many disguises: an OSError from our own writes, one re-raised from a
datatrove worker, sqlite's "database or disk is full", a RuntimeError from torch's checkpoint
writer that only quotes the message. So the exception chain is searched for any of them, and a
filesystem with (almost) no space left after a failure counts too.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

MARKERS = ("no space left on device", "database or disk is full", "disk quota exceeded")
NEARLY_FULL = 1 << 20  # bytes: below this free after a failure, the disk is why it failed


class DiskFull(RuntimeError):
    pass


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def full_path(exc: BaseException) -> str | None:
    """The file whose write hit ENOSPC, "" when the chain says "disk full" without naming one, else None."""
    found = None
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return e.filename or ""
        if any(m in str(e).lower() for m in MARKERS):
            found = ""
    return found


def _existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists (the failed attempt's folder is gone by now)."""
    p = Path(path)
    while not p.exists():
        p = p.parent
    return p


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(_existing(path)).free


def tree_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def explain(stage: str, exc: BaseException, where: Path, written: int, earlier: int | None) -> str | None:
    """One line when `exc` (raised while `stage` wrote into `where`, now removed) was a full disk, else None.
    `written`: what the failed attempt had written; `earlier`: the size of an earlier build of the stage."""
    path = full_path(exc)
    free = free_bytes(where)
    if path is None and free >= NEARLY_FULL + written:
        return None
    need = max(written, earlier or 0)
    need_text = (f"about {_size(need)} (its last build's size)" if earlier and earlier >= written
                 else f"more than {_size(need)} (what it had written when the disk filled)")
    mount = _mount(where)
    return (f"disk full: {stage} could not write {path or where} (No space left on device). It needs {need_text} "
            f"free on {mount}, which has {_size(free)} free; free some "
            "space, then `zerollm resume` (or the same command) continues from here")


def _mount(path: Path) -> Path:
    p = _existing(path).resolve()
    while not os.path.ismount(p):
        p = p.parent
    return p


def _size(n: float) -> str:
    unit = "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
