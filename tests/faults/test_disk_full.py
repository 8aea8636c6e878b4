"""ENOSPC on a real small filesystem (a tmpfs mounted for the test), in dedup: the run fails with one
line naming the path and the space needed, leaves no temporary folder, is recorded as failed, and a
rerun after space is freed completes with the data of an undisturbed run."""

import json
import shutil
import subprocess
import uuid

import pytest

from tests.faults.common import ARGS, content, finish, left_running, manifests, no_leftovers, start

pytestmark = pytest.mark.faults
SIZE = "64m"


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); a loop device needs the same right")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_in_dedup(tmp_path, small_fs):
    w = small_fs / "w"  # tracking on: MLflow's sqlite store is on the full disk too
    finish(start(w, *ARGS, "--until", "filter"))
    filler = small_fs / "filler"
    with open(filler, "wb") as f:  # leave less than dedup writes (its run record's reserve included)
        f.write(b"\0" * (shutil.disk_usage(small_fs).free - 400_000))

    proc = start(w, *ARGS, "--until", "dedup")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("pipeline failed: disk full: dedup could not write ") and str(w / "stages" / "dedup") in last
    assert " needs " in last and f"free on {small_fs}" in last, last
    no_leftovers(w)
    record = json.loads((w / "runs" / "latest.json").read_text())
    assert record["status"] == "failed" and "disk full" in record["error"], record.get("status")
    assert left_running(proc.token) == []

    filler.unlink()
    out, _ = finish(start(w, *ARGS, "--until", "dedup"))
    assert ["dedup", "ran"] in [line.split()[:2] for line in out.splitlines()]
    reference = tmp_path / "reference"
    finish(start(reference, *ARGS, "--until", "dedup", "--set", "tracking.enabled=false"))
    a, b = manifests(reference), manifests(w)
    assert content(a["dedup"]) == content(b["dedup"])
    no_leftovers(w)
