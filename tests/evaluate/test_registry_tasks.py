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


def test_a_task_pointed_at_local_data_loads(tmp_path):
    data = tmp_path / "items.jsonl"
    data.write_text('{"question": "Where does Olive live?", "choices": ["Millby", "Larkhaven"], "gold": 0}\n')
    (tmp_path / "my_local_qa.yaml").write_text(
        "task: my_local_qa\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        "doc_to_text: 'Question: {{question}}\\nAnswer:'\ndoc_to_choice: '{{choices}}'\ndoc_to_target: '{{gold}}'\n"
        "metric_list:\n  - metric: acc\n")
    ok, skipped = registry_tasks(["my_local_qa"], task_manager(False, str(tmp_path)), logging.getLogger("t"))
    assert ok == ["my_local_qa"] and skipped == []
