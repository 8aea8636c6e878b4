"""`zerollm report` on a run stopped after the tokenizer (the Chinese world): the data stages with their
numbers, the rest said to be missing, and the page clean in headless Chromium."""

import json
import shutil

import pytest

from tests.browser import broken_images, chromium, console_errors
from tests.conftest import REPO
from tests.flows.test_pipeline_e2e import status, zerollm
from zerollm.report.render import _cell

pytestmark = pytest.mark.slow
SECTIONS = ["run", "data", "data-changes", "tokenizer", "training", "quantization", "taught", "links"]  # stage order
ARTIFACTS = REPO / "test-artifacts"


def test_report_of_a_run_stopped_after_the_tokenizer(tmp_path):
    w = tmp_path / "w"
    zerollm("run", "--config", "configs/tiny-zh.yaml", "--workdir", str(w), "--until", "tokenizer",
            "--set", "collect.sources=[{type: synthetic, language: zh, seed: 0, target_mb: 0.3}]",
            "--set", "tokenizer.vocab_size=2048", fast=False)
    rec = json.loads((w / "runs" / "latest.json").read_text())
    assert rec["report"] == f"reports/{rec['run_id']}/report.html"  # relative: the workdir can move
    written = w / rec["report"]
    assert written.is_file()
    shutil.rmtree(w / "reports")

    out = zerollm("report", "--workdir", str(w)).stdout
    html, md = w / "reports" / rec["run_id"] / "report.html", w / "reports" / rec["run_id"] / "report.md"
    assert str(html.resolve()) in out.replace("\n", "") and md.is_file()
    text = md.read_text(encoding="utf-8")
    st = status(w)
    for number in (st["collect"]["metrics"]["docs_in"], st["dedup"]["metrics"]["docs_out"],
                   int(st["tokenizer"]["metrics"]["train_docs"]), int(st["tokenizer"]["metrics"]["vocab_size"])):
        assert _cell(number) in text, number
    assert "held-out zh text" in text  # the Chinese world's own text, token by token
    assert "Not in this run: pretrain did not run; sft did not run; rlhf did not run" in text
    assert "this run stopped after tokenizer" in text
    assert "![data funnel" in text and (md.parent / "img" / "funnel.png").is_file()

    with chromium() as page:
        page.get(html.resolve().as_uri())
        ids = page.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
        assert ids == SECTIONS
        body = page.find_element("tag name", "body").text
        assert _cell(st["collect"]["metrics"]["docs_in"]) in body and "evaluate did not run" in body
        assert any("\u4e00" <= c <= "\u9fff" for c in body), "the Chinese world's text is on the page"
        assert page.execute_script("return document.images.length") >= 1
        assert broken_images(page) == [] and console_errors(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.set_window_size(1280, min(page.execute_script("return document.body.scrollHeight") + 50, 16000))
        page.save_screenshot(str(ARTIFACTS / "report-until-tokenizer-zh.png"))


def test_report_names_an_unknown_run(tmp_path):
    proc = zerollm("report", "--workdir", str(tmp_path), "--run", "nope", check=False)
    assert proc.returncode == 2 and "no runs" in proc.stderr and "Traceback" not in proc.stderr
