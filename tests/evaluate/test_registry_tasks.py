"""lm-eval registry tasks offline: a task whose data cannot be reached is one line and skipped."""

import logging

from zerollm.evaluate.stage import registry_tasks, task_manager


def test_unreachable_and_unknown_tasks_are_skipped_with_one_line(caplog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    log = logging.getLogger("test.evaluate")
    with caplog.at_level(logging.WARNING, logger="test.evaluate"):
        ok, skipped = registry_tasks(["arc_easy", "no_such_task_zz"], task_manager(True), log)
    assert ok == [] and skipped == ["arc_easy", "no_such_task_zz"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("\n" not in ln for ln in lines)
    assert lines[0].startswith("evaluate: task 'arc_easy' skipped: its data is not reachable")
    assert lines[1] == "evaluate: task 'no_such_task_zz' skipped: not an lm-eval task or group"
