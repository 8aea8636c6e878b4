"""A failed run is told to resume only when there is a record to resume from."""

from flows.cli import _next_step
from zerollm.records import RunRecord, latest_failed_run


def test_resume_is_offered_only_for_a_recorded_failed_run(tmp_path):
    assert "left no record to resume" in _next_step(tmp_path, "20261207-000000-aaaaaa")
    rec = RunRecord(tmp_path, {"name": "t"}, run_id="20261207-000000-aaaaaa")
    rec.finish("failed", RuntimeError("boom"))
    assert latest_failed_run(tmp_path)["run_id"] == rec.id
    assert _next_step(tmp_path, rec.id) == f"resume: zerollm resume --workdir {tmp_path}"
    assert "left no record" in _next_step(tmp_path, "20261207-000001-bbbbbb")  # another run's record
    later = RunRecord(tmp_path, {"name": "t"}, run_id="20261207-000002-cccccc")  # a concurrent run, now the latest
    later.finish("completed")
    assert _next_step(tmp_path, rec.id).startswith("rerun: the same command again")
    assert not list((tmp_path / "runs").glob(".*.reserve"))  # the room kept for the last save is given back
