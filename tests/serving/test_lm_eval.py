"""lm-eval's own CLI against `zerollm serve`: `lm_eval --model local-chat-completions` on a small local
generation task (the released run's held-out questions), from the project's venv (its `api` extra)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TASK = """task: zerollm_served_qa
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{question}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["<|im_end|>"]
  max_gen_toks: 16
  temperature: 0
metric_list:
  - metric: exact_match
    ignore_case: true
    ignore_punctuation: true
metadata:
  version: 1
"""


def test_lm_eval_cli_scores_the_served_model(served, released, tmp_path):
    data = next(Path(released["work"]).glob("stages/evaluate/*/tasks/qa_gen.jsonl"))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "served_qa.yaml").write_text(TASK.format(data=data), encoding="utf-8")
    out = tmp_path / "out"
    args = f"model={served.model},base_url={served.api}/chat/completions,num_concurrent=4,max_retries=1"
    proc = subprocess.run([str(Path(sys.executable).with_name("lm_eval")), "--model", "local-chat-completions",
                           "--model_args", args, "--tasks", "zerollm_served_qa", "--include_path", str(tasks),
                           "--apply_chat_template", "--limit", "8", "--log_samples", "--output_path", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())
    assert "exact_match,none" in results["results"]["zerollm_served_qa"]
    samples = [json.loads(ln) for ln in next(out.rglob("samples_zerollm_served_qa_*.jsonl")).read_text().splitlines()]
    assert len(samples) == 8
    assert all(isinstance(s["resps"][0][0], str) for s in samples)
    assert sum(bool(s["resps"][0][0].strip()) for s in samples) >= 6, "the served model answered"
