"""Every process a run starts dies with the run, even when the run itself is killed with -9.

Process groups miss children that start their own session (the run's Prefect server, llama.cpp),
and PR_SET_PDEATHSIG reaches only a direct child, not datatrove's pool manager or a forkserver's
workers. What every descendant does keep, however it was started, is its environment. So a run
carries a token in the environment it was executed with (`adopt` re-executes the process once to
set it: /proc shows a process's environment as of its exec), and a small guardian in its own
session waits for the run's pid to end, any way it ends, then ends every process that still
carries the token. The same sweep frees a stage lock that a dead run's orphans still hold.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ENV = "ZEROLLM_RUN_TOKEN"
OWNER = "ZEROLLM_RUN_PID"  # the pid that took the token: a run started from inside a run takes its own
GRACE_S = 3.0  # SIGTERM first (servers shut down cleanly), SIGKILL after this


def token() -> str | None:
    return os.environ.get(ENV) or None


def adopt() -> None:
    """Make this process a run that nothing outlives: give it a token of its own (re-executing it once,
    before it has done anything, so that even forked children show the token) and start its guardian."""
    if os.environ.get(OWNER) != str(os.getpid()):
        os.environ[ENV] = uuid.uuid4().hex
        os.environ[OWNER] = str(os.getpid())
        if sys.platform.startswith("linux") and getattr(sys, "orig_argv", None):
            sys.stdout.flush()
            sys.stderr.flush()
            os.execv(sys.executable, sys.orig_argv)  # same pid: whoever watches this process keeps watching it
    start_guardian(os.getpid(), token())


def token_of(pid: int) -> str | None:
    """The token of run `pid` once it has adopted one (None before, or for another process)."""
    try:
        env = dict(v.split(b"=", 1) for v in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in v)
    except OSError:
        return None
    if env.get(OWNER.encode()) != str(pid).encode():
        return None
    return env.get(ENV.encode(), b"").decode() or None


def start_guardian(pid: int, tok: str) -> subprocess.Popen | None:
    """A watcher of `pid` in its own session (a kill of the run's process group leaves it standing);
    it carries no token itself, so no sweep ends it."""
    if not sys.platform.startswith("linux"):
        return None
    env = {k: v for k, v in os.environ.items() if k != ENV}
    return subprocess.Popen([sys.executable, "-m", "zerollm.lifeline", str(pid), tok], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, close_fds=True)


def carriers(tok: str) -> list[int]:
    """Live processes of this user that carry the token (zombies have no environment left)."""
    return [int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) != os.getpid() and carries(int(n), tok)]


def carries(pid: int, tok: str) -> bool:
    try:  # gone, or another user's: not ours to end
        return f"{ENV}={tok}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def end_processes(tok: str, grace: float = GRACE_S) -> list[int]:
    """End every process carrying `tok`: SIGTERM, then SIGKILL whatever is left after `grace`."""
    pids = carriers(tok)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.time() + grace
    while time.time() < deadline and any(carries(p, tok) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if carries(pid, tok):
            _signal(pid, signal.SIGKILL)
    return pids


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for_exit(pid: int) -> None:
    """Until `pid` has ended (a zombie counts as ended: its children are orphans already)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfd: poll
        while _running(pid):
            time.sleep(0.5)
        return
    import select

    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _guard(pid: int, tok: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the run must not stop its guardian
    wait_for_exit(pid)
    end_processes(tok)


if __name__ == "__main__":
    _guard(int(sys.argv[1]), sys.argv[2])
