"""One writer per stage key across processes, and no lock that outlives its run.

An exclusive flock on `<key>.lock` beside the output. The kernel frees it when the last holder of
the open file goes, but a forked child (datatrove's pool manager) holds the same open file: if the
run is killed and the child lives on, the lock would be held forever. So the holder writes who it
is into the file (pid, host, run token), and a waiting run breaks a lock whose owner is gone, or is
not a zerollm run (the pid now belongs to something else): it ends the dead run's leftover
processes and takes a fresh lock file, with a one-line notice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from zerollm import lifeline

POLL_S = 0.5


@contextlib.contextmanager
def stage_lock(final: Path, log=None, poll: float = POLL_S):
    """Yields True when it had to wait; the caller looks again for a finished output in any case
    (another run may have built it since the plan)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    path = final.parent / f"{final.name}.lock"
    waited = told = False
    while True:
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(fh)
            gone = _gone(owner)
            if gone:
                if log is not None:
                    log.warning("%s: lock %s was held by %s; broken", final.parent.name, path.name, gone)
                if owner.get("token"):
                    lifeline.end_processes(owner["token"])
                _unlink_if_same(path, fh)
            elif not told and log is not None:
                who = f"another run (pid {owner['pid']})" if owner.get("pid") else "another run"
                log.info("%s: %s is writing %s; waiting for it", final.parent.name, who, final.name)
                told = True
            waited = waited or not gone
            fh.close()
            if not gone:
                time.sleep(poll)
            continue
        if _same_file(path, fh):
            break
        fh.close()  # broken and replaced by another run between our open and our lock: take the new one
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "token": lifeline.token(),
                             "since": time.time()}))
        fh.flush()
        yield waited
    finally:
        with contextlib.suppress(OSError):
            fh.truncate(0)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _owner(fh) -> dict:
    try:
        fh.seek(0)
        data = json.loads(fh.read() or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _gone(owner: dict) -> str | None:
    """Why the lock's owner no longer counts (None: it is a live run, or it cannot be told from here)."""
    pid, host, tok = owner.get("pid"), owner.get("host"), owner.get("token")
    if not isinstance(pid, int) or host != socket.gethostname():
        return None  # no record yet (being written), or a run on another machine sharing the workdir
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"process {pid}, which has ended"
    except PermissionError:
        return f"process {pid}, which is not a zerollm run (another user's)"
    if tok and not lifeline.carries(pid, tok):
        return f"process {pid}, which is not the zerollm run that took it (its pid was reused)"
    return None


def _same_file(path: Path, fh) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
    except FileNotFoundError:
        return False


def _unlink_if_same(path: Path, fh) -> None:
    if _same_file(path, fh):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
