"""Operations on the tiny pipeline through the real CLI: a failure on purpose and `zerollm resume`,
a kill -9 marked as such by the next command, SIGTERM ending a run within seconds, `zerollm compare`."""

import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO
from tests.flows.test_pipeline_e2e import FAST, ZEROLLM, kill_9_once, status, zerollm

pytestmark = pytest.mark.slow
UNTIL_SFT = ["--config", "configs/tiny.yaml", "--until", "sft"]  # with FAST's small world and few steps


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    """One workdir for the module: the data stages run once, each test changes pretrain or later."""
    return tmp_path_factory.mktemp("ops") / "w"


def record(workdir: Path) -> dict:
    return json.loads((workdir / "runs" / "latest.json").read_text())


def mlflow_runs(workdir: Path) -> dict:
    client = MlflowClient(f"sqlite:///{workdir.resolve() / 'mlflow.db'}")
    exp = client.get_experiment_by_name("zerollm")
    return {r.info.run_id: r for r in client.search_runs([exp.experiment_id])}


@pytest.mark.faults  # two whole CLI runs: with the other resume drills in `make test-faults`
def test_fail_once_then_resume_continues_from_the_failed_stage(w):
    proc = zerollm("run", "-w", str(w), *UNTIL_SFT, "--set", "faults.fail_once=sft", check=False)
    assert proc.returncode == 1
    assert "failing once on purpose" in proc.stderr and "zerollm resume" in proc.stderr
    failed = record(w)
    assert failed["status"] == "failed" and [s["stage"] for s in failed["stages"]][-1] == "pretrain"
    report = (w / failed["report"]).with_suffix(".md").read_text(encoding="utf-8")
    assert "The run failed: InjectedFault: sft: failing once on purpose" in report
    assert "Not in this run: sft failed;" in report  # (and rlhf, after --until sft, did not run)

    zerollm("resume", "-w", str(w))
    st = status(w)
    assert list(st) == ["collect", "filter", "dedup", "tokenizer", "pretrain", "sft"]
    assert all(st[s]["cache_hit"] for s in list(st)[:5]) and not st["sft"]["cache_hit"]
    rec = record(w)
    assert rec["status"] == "completed" and rec["resumed_from"] == failed["run_id"]
    assert rec["config"] == failed["config"] and rec["until"] == "sft"

    nothing = zerollm("resume", "-w", str(w), check=False)
    assert nothing.returncode == 1 and "nothing to resume" in nothing.stderr

    out = zerollm("compare", "latest~1", "latest", "-w", str(w)).stdout
    assert failed["run_id"] in out and rec["run_id"] in out
    cmp = json.loads(zerollm("compare", "latest~1", "latest", "-w", str(w), "--json").stdout)
    by_stage = {s["stage"]: s for s in cmp["stages"]}
    assert by_stage["pretrain"]["shared"] and by_stage["sft"]["in_b"] and not by_stage["sft"]["in_a"]


@pytest.mark.faults  # a real kill -9: with the other kills in `make test-faults`
def test_kill_9_is_marked_failed_by_the_next_command(w):
    args = ["run", "-w", str(w), *UNTIL_SFT, *FAST, "--set", "pretrain.max_steps=40"]
    kill_9_once(args, w / "stages" / "pretrain", "*.work/ckpt-*/trainer_state.pt", "pretrain wrote a checkpoint")
    killed = record(w)
    assert killed["status"] == "running"  # nobody could say otherwise
    running = [r for r in mlflow_runs(w).values() if r.info.status == "RUNNING"]
    assert {r.data.tags["zerollm.stage"] for r in running} >= {"tiny", "pretrain"}

    zerollm("resume", "-w", str(w), *[])
    old = json.loads((w / "runs" / f"{killed['run_id']}.json").read_text())
    assert old["status"] == "failed" and old["error"].startswith("killed")
    runs = mlflow_runs(w)
    for r in running:
        assert runs[r.info.run_id].info.status == "FAILED"
        assert runs[r.info.run_id].data.tags["zerollm.ended"] == "killed"
    st = status(w)
    assert st["pretrain"]["metrics"]["resumed_from_step"] > 0 and st["pretrain"]["metrics"]["steps"] == 40


def test_sigterm_ends_a_run_within_seconds_and_keeps_checkpoints(w):
    proc = subprocess.Popen([ZEROLLM, "run", "-w", str(w), *UNTIL_SFT, *FAST, "--set", "pretrain.max_steps=2000"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    root = w / "stages" / "pretrain"
    while not list(root.glob("*.work/ckpt-*/trainer_state.pt")):
        assert proc.poll() is None and time.time() < deadline, "pretrain never wrote a checkpoint"
        time.sleep(0.1)
    kids = psutil.Process(proc.pid).children(recursive=True)
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert time.time() - t0 < 10
    assert proc.returncode == 128 + signal.SIGTERM and "stopped (SIGTERM)" in err
    assert not list(root.glob("*.tmp-*")), "the stage's temporary directory is removed"
    assert len(list(root.glob("*.work/ckpt-*"))) >= 1, "scratch checkpoints stay for resume"
    rec = record(w)
    assert rec["status"] == "failed"
    mine = [r for r in mlflow_runs(w).values() if r.info.run_id == rec["mlflow_run_id"]
            or r.data.tags.get("mlflow.parentRunId") == rec["mlflow_run_id"]]
    stages = {r.data.tags["zerollm.stage"]: r.info.status for r in mine}
    assert stages["pretrain"] == "KILLED" and stages["tiny"] == "KILLED" and stages["dedup"] == "FINISHED"
    time.sleep(0.5)
    assert not [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE], \
        "Prefect's temporary server and other children are stopped"
