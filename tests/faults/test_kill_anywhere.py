"""kill -9 inside each stage, three ways: the run's main process alone (as the OOM killer does), one
worker process of the stage, and the whole process group. After every kill: no process of the run is
left (its guardian ends them), no lock blocks the next run, nothing half-written reads as done. The
final run completes with the keys a plain run plans, and the deterministic stages' data equals an
undisturbed run's."""

import os
import random
import signal
import time

import psutil
import pytest

from tests.conftest import REPO
from tests.faults.common import (
    ARGS, DETERMINISTIC, UNTRACKED, content, finish, left_running, manifests, no_leftovers, start,
)
from zerollm.cache import verify
from zerollm.registry import STAGES

pytestmark = pytest.mark.faults
SMALL_TASKS = [*UNTRACKED, "--set", "dedup.workers=2"]  # one datatrove task per shard: a pool
WITH_WORKER_KILLS = ("collect", "filter", "dedup", "tokenizer", "pretrain", "sft")


def stage_workers(pid: int) -> list[psutil.Process]:
    """Processes doing a stage's work for the run `pid`: leaves of its process tree (a pool's workers, not
    its fork server), not the guardian, not multiprocessing's resource tracker, not datatrove's manager
    (a fork of the main process, same command line)."""
    try:
        main = psutil.Process(pid)
        cmd = main.cmdline()
        found = []
        for k in main.children(recursive=True):
            c = " ".join(k.cmdline())
            if k.cmdline() == cmd or "zerollm.lifeline" in c or "resource_tracker" in c or k.children():
                continue
            found.append(k)
        return found
    except psutil.Error:
        return []


def _inside(w, stage, pid) -> bool:
    return bool(list((w / "stages" / stage).glob(f"*.tmp-{pid}")))


def test_kill_9_of_the_main_process_a_worker_or_the_group_inside_every_stage(tmp_path):
    ref_dir, w = tmp_path / "reference", tmp_path / "killed"
    finish(start(ref_dir, *ARGS, *SMALL_TASKS, "--until", "tokenizer"))  # the deterministic stages, undisturbed

    rng = random.Random(7)
    landed = []  # (stage, how, inside the stage when killed)
    for stage in STAGES.names:
        for how in ("main", "worker") if stage in WITH_WORKER_KILLS else ("group",):
            # only as far as this stage: a kill that lands just after a fast stage (collect takes 0.2 s
            # here) must not let the next attempt build every later stage before their turn
            proc = start(w, *ARGS, *SMALL_TASKS, "--until", stage, start_new_session=True)
            deadline = time.time() + 600
            while not _inside(w, stage, proc.pid) and proc.poll() is None:
                assert time.time() < deadline, f"{stage} never started"
                time.sleep(0.01)
            if proc.poll() is not None:  # the stage was already built by an earlier attempt
                finish(proc)
                continue
            if how == "worker":
                victims = []
                while not victims and _inside(w, stage, proc.pid):
                    victims = stage_workers(proc.pid)
                    time.sleep(0.02)
                if not victims:  # this stage starts no worker process: stop the run wherever it got to
                    landed.append((stage, "worker: none started", False))
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.communicate()
                    assert left_running(proc.token) == []
                    continue
                time.sleep(rng.uniform(0.0, 0.3))
                victim = victims[0]
                inside = _inside(w, stage, proc.pid)
                try:
                    what = " ".join(victim.cmdline())[-40:]
                    victim.kill()
                except psutil.NoSuchProcess:
                    what, inside = "gone before the kill", False
                hung = time.time() + 180  # a lost worker must fail the stage (or be survived), never hang it
                while _inside(w, stage, proc.pid) and proc.poll() is None:
                    assert time.time() < hung, f"{stage}: the stage hung after a worker was killed"
                    time.sleep(0.05)
                time.sleep(0.5)
                built = any(verify(d) for d in (w / "stages" / stage).iterdir() if d.is_dir())
                if proc.poll() is None:  # the stage got over it: stop the run before it goes further
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                landed.append((stage, f"worker ({what}): stage {'finished' if built else 'failed'}", inside))
            else:
                time.sleep(rng.uniform(0.0, 0.6))
                inside = _inside(w, stage, proc.pid)
                if how == "main":
                    os.kill(proc.pid, signal.SIGKILL)  # the main process alone: its children are orphaned
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                landed.append((stage, how, inside))
            assert left_running(proc.token) == [], f"{stage}/{how}: processes outlived the run"
            for d in (w / "stages" / stage).glob("*"):  # nothing half-written is a done stage
                if d.is_dir() and not d.name.endswith((".work", ".failed")) and ".tmp-" not in d.name:
                    assert verify(d) is not None, d

    print("\n".join(f"{s:<10} {how:<45} inside={inside}" for s, how, inside in landed))
    final = start(w, *ARGS, *SMALL_TASKS)
    finish(final, timeout=900)
    assert left_running(final.token) == []
    mains = [s for s, how, inside in landed if how == "main" and inside]
    assert len(mains) >= 5, landed
    workers = {s for s, how, inside in landed if how.startswith("worker (") and inside}
    assert {"filter", "dedup"} <= workers, landed  # datatrove's pool: a lost task must not hang the stage

    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig
    from zerollm.runner import plan

    sets = [*ARGS, *SMALL_TASKS][3::2]  # the --set values
    planned = {p.stage: p.key for p in plan(load_config(PipelineConfig, REPO / ARGS[1], sets), w)}
    a, b = manifests(ref_dir), manifests(w)
    assert list(b) == list(STAGES.names)
    for stage, d in b.items():
        assert d.name == planned[stage], stage  # the kills changed no key
    for stage in DETERMINISTIC:
        assert a[stage].name == b[stage].name and content(a[stage]) == content(b[stage]), stage
    no_leftovers(w)


def test_kill_9_of_the_cli_leaves_no_prefect_server(tmp_path):
    """`zerollm run` starts its own Prefect server (in its own session): a kill -9 of the run ends it too."""
    w = tmp_path / "w"
    proc = start(w, *ARGS, *SMALL_TASKS, "--until", "filter", cli=True)
    deadline = time.time() + 300
    while not _inside(w, "filter", proc.pid):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.02)
    servers = [p for p in psutil.Process(proc.pid).children(recursive=True)
               if "prefect" in " ".join(p.cmdline()) and "server" in p.cmdline()]
    assert servers, "the run's Prefect server should be running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert left_running(proc.token) == []
    _, alive = psutil.wait_procs(servers, timeout=10)  # a server may still be exiting from the guardian's SIGTERM
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    finish(start(w, *ARGS, *SMALL_TASKS, "--until", "filter", cli=True))  # and the next run is not blocked
