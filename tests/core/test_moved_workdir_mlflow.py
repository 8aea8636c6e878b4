"""A workdir copied or moved elsewhere keeps its own MLflow store working there, not in the old place."""

import logging
import shutil
from pathlib import Path

import pytest

from zerollm import serving
from zerollm.tracking import Tracker, TrackingConfig

GGUF = Path("stages/quantize/k1/gguf/model-Q8_0.gguf")
MODEL = "zerollm-chat"  # the default config's registry name (champion_gguf with no run record)


@pytest.fixture(autouse=True)
def own_store(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def make_workdir(work: Path) -> str:
    """A tracked run with an artifact and a champion version whose gguf_path is workdir-relative."""
    (work / GGUF).parent.mkdir(parents=True)
    (work / GGUF).write_bytes(b"GGUF-bytes")
    t = Tracker(TrackingConfig(), work)
    run_id = t.start_run("evaluate", tags={"stage_dir": work / "stages/evaluate/k2"})
    t.log_artifact(run_id, work / GGUF, "release/gguf")
    version = t.register_version(MODEL, t.artifact_uri(run_id, "release"), run_id, {"gguf_path": GGUF})
    t.set_alias(MODEL, "champion", version)
    t.end_run(run_id)
    return run_id


def rebase_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "MLflow paths rebased" in r.getMessage()]


def test_moved_workdir_is_rebased(tmp_path, caplog):
    a, b = tmp_path.resolve() / "a", tmp_path.resolve() / "b"
    run_id = make_workdir(a)
    shutil.copytree(a, b)
    shutil.rmtree(a)
    with caplog.at_level(logging.WARNING, logger="zerollm.tracking"):
        t = Tracker(TrackingConfig(), b)
        run = t.client.get_run(run_id)
        assert Tracker(TrackingConfig(), b).experiment_id == t.experiment_id  # nothing left to rebase
    assert rebase_warnings(caplog) == [f"workdir moved from {a} to {b}: MLflow paths rebased"]
    assert t.client.get_experiment(t.experiment_id).artifact_location == (b / "mlartifacts").as_uri()
    assert run.info.artifact_uri.startswith((b / "mlartifacts").as_uri() + "/")
    assert run.data.tags["stage_dir"] == str(b / "stages/evaluate/k2")
    assert t.client.get_model_version(MODEL, "1").source.startswith((b / "mlartifacts").as_uri() + "/")

    new_run = t.start_run("again")
    t.log_text(new_run, "hi", "note.txt")
    assert list(b.glob("mlartifacts/*/artifacts/note.txt")) and not a.exists()
    assert serving.champion_gguf(b) == b / GGUF


def test_copied_workdir_resolves_inside_the_copy(tmp_path, caplog):
    a, b = tmp_path.resolve() / "a", tmp_path.resolve() / "b"
    make_workdir(a)
    shutil.copytree(a, b)
    with caplog.at_level(logging.WARNING, logger="zerollm.tracking"):
        assert serving.champion_gguf(b) == b / GGUF
        assert serving.champion_gguf(a) == a / GGUF
    assert rebase_warnings(caplog) == [f"workdir moved from {a} to {b}: MLflow paths rebased"]
    t = Tracker(TrackingConfig(), a)
    assert t.client.get_experiment(t.experiment_id).artifact_location == (a / "mlartifacts").as_uri()


def test_old_absolute_gguf_tag_is_not_followed(tmp_path):
    """A tag from before the move that points at another workdir: the same stage file here, never there."""
    a, b = tmp_path.resolve() / "a", tmp_path.resolve() / "b"
    (a / GGUF).parent.mkdir(parents=True)
    (a / GGUF).write_bytes(b"x")
    shutil.copytree(a, b)
    assert serving._local_gguf(b, str(a / GGUF)) == b / GGUF
    (b / GGUF).unlink()
    assert serving._local_gguf(b, str(a / GGUF)) is None
