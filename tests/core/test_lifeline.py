"""Real processes, real SIGKILL: nothing a run started outlives it, and no dead run's lock blocks the next."""

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from zerollm import lifeline
from zerollm.stagelock import stage_lock

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc (Linux)")


def _spawn(code: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if k != lifeline.ENV}, **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)


def _alive(pid: int) -> bool:
    return lifeline._running(pid)


def _wait_gone(pids, timeout=10.0) -> list[int]:
    deadline = time.time() + timeout
    while time.time() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def test_a_kill_9_of_the_run_ends_every_process_it_started():
    """Forked, exec'd and setsid'd descendants all carry the token and are ended by the guardian."""
    run = _spawn("""
        import os, subprocess, sys, time
        from zerollm import lifeline
        lifeline.adopt()  # re-executes this very command once, with the token set
        if os.fork() == 0:
            time.sleep(300); os._exit(0)
        sub = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
        print(os.environ[lifeline.ENV], flush=True)
        time.sleep(300)
    """)
    tok = run.stdout.readline().strip()
    deadline = time.time() + 10
    while len(lifeline.carriers(tok)) < 3:  # the run, its fork, its setsid'd child
        assert time.time() < deadline, lifeline.carriers(tok)
        time.sleep(0.05)
    kids = [p for p in lifeline.carriers(tok) if p != run.pid]
    os.kill(run.pid, signal.SIGKILL)  # the run alone, as the OOM killer does
    run.wait()
    assert _wait_gone(kids) == [], "orphans outlived the run"
    assert lifeline.carriers(tok) == []


def test_a_lock_held_by_a_dead_runs_orphan_is_broken(tmp_path, caplog):
    """The run that took the lock is killed; its forked child (no guardian here) keeps the open file."""
    final = tmp_path / "stages" / "filter" / "k"
    holder = _spawn(f"""
        import os, signal, time
        from zerollm.stagelock import stage_lock
        with stage_lock(__import__("pathlib").Path({str(final)!r})):
            if os.fork() == 0:
                time.sleep(300); os._exit(0)
            print("locked", flush=True)
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
    """, {lifeline.ENV: "tok-test-orphan"})  # in its environment from exec, as after adopt()'s re-exec
    assert holder.stdout.readline().strip() == "locked"
    holder.wait()
    orphans = lifeline.carriers("tok-test-orphan")
    assert orphans, "the forked child should still be holding the lock's file"
    t0 = time.time()
    with caplog.at_level(logging.WARNING), stage_lock(final, logging.getLogger("t")) as waited:
        took = time.time() - t0
    assert took < 8 and not waited, took
    assert any("broken" in r.message and str(holder.pid) in r.message for r in caplog.records), caplog.text
    assert _wait_gone(orphans) == []


def test_a_live_owner_is_waited_for(tmp_path):
    final = tmp_path / "stages" / "dedup" / "k"
    holder = _spawn(f"""
        import time
        from zerollm.stagelock import stage_lock
        with stage_lock(__import__("pathlib").Path({str(final)!r})):
            print("locked", flush=True)
            time.sleep(2)
    """)
    assert holder.stdout.readline().strip() == "locked"
    t0 = time.time()
    with stage_lock(final, logging.getLogger("t")) as waited:
        assert waited and time.time() - t0 > 1.0
    holder.wait()


def test_an_owner_record_whose_pid_is_another_process_is_broken(tmp_path, caplog):
    """The pid recorded in the lock is alive but is not the run that took it (pid reuse)."""
    final = tmp_path / "stages" / "dedup" / "k"
    final.parent.mkdir(parents=True)
    other = subprocess.Popen(["sleep", "60"])
    holder = _spawn(f"""
        import fcntl, json, socket, time
        fh = open({str(final) + '.lock'!r}, "a+")
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps({{"pid": {other.pid}, "host": socket.gethostname(), "token": "tok-not-its"}})); fh.flush()
        print("locked", flush=True)
        time.sleep(60)
    """)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with caplog.at_level(logging.WARNING), stage_lock(final, logging.getLogger("t")):
            pass
        assert any("not the zerollm run" in r.message for r in caplog.records), caplog.text
        assert json.loads(Path(str(final) + ".lock").read_text() or "{}") == {}  # released and emptied
    finally:
        for p in (other, holder):
            p.kill()
            p.wait()


def test_a_run_started_inside_a_run_takes_its_own_token():
    """Else the inner run's guardian, sweeping its token at the end, would end the outer run too."""
    inner = _spawn("""
        import os
        from zerollm import lifeline
        lifeline.adopt()
        print(os.environ[lifeline.ENV], flush=True)
    """, {lifeline.ENV: "tok-outer", lifeline.OWNER: "1"})
    tok = inner.stdout.readline().strip()
    inner.wait()
    assert tok and tok != "tok-outer"
