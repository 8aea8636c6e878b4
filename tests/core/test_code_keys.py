"""Stage keys follow the code: an edit to a module changes exactly the keys of the stages that reach it
through imports, and of what reads them; comments, docstrings and formatting change none."""

import shutil
from pathlib import Path

import pytest

from zerollm.cache import Manifest
from zerollm.config import load_config
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import StagePlan, plan, why_changed

REPO = Path(__file__).resolve().parents[2]
ALL = ("collect", "filter", "dedup", "tokenizer", "pretrain", "sft", "rlhf", "quantize", "evaluate")
FROM_PRETRAIN = ("pretrain", "sft", "rlhf", "quantize", "evaluate")

# module edited -> the stages whose key must change (its readers, and what reads them)
EXPECTED = {
    "zerollm/executors.py": ALL[1:],  # filter and dedup run datatrove through it
    "zerollm/pretrain/train.py": FROM_PRETRAIN,
    "zerollm/pretrain/__main__.py": FROM_PRETRAIN,  # what torchrun launches
    "zerollm/finetune.py": ("sft", "rlhf", "quantize", "evaluate"),
    "zerollm/quantize/converter.py": ("quantize", "evaluate"),
    "zerollm/evaluate/gate.py": ("evaluate",),
    "zerollm/stage.py": ALL,  # the contract every stage module imports
    # reached by no stage: the registry, the runner, the CLI, presentation
    "zerollm/registry.py": (),
    "zerollm/runner.py": (),
    "zerollm/report/sections.py": (),
    "zerollm/tokenizer/view.py": (),
    "zerollm/serving.py": (),
    "flows/cli.py": (),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    for top in ("zerollm", "flows"):
        shutil.copytree(REPO / top, root / top, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def keys(root: Path, workdir: Path) -> dict[str, str]:
    cfg = load_config(PipelineConfig, None, ["tracking.enabled=false"])
    return {p.stage: p.key for p in plan(cfg, workdir, root=root)}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_an_edit_changes_exactly_the_stages_that_reach_it(tree, tmp_path, module):
    before = keys(tree, tmp_path)
    path = tree / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + "\n_EDITED_FOR_A_TEST = 1\n", encoding="utf-8")
        after = keys(tree, tmp_path)
    finally:
        path.write_text(original, encoding="utf-8")
    changed = tuple(s for s in ALL if before[s] != after[s])
    assert changed == EXPECTED[module]


def test_comments_docstrings_and_formatting_change_no_key(tree, tmp_path):
    before = keys(tree, tmp_path)
    path = tree / "zerollm" / "pretrain" / "train.py"
    original = path.read_text(encoding="utf-8")
    body = original.replace('"""', '"""A reworded docstring. ', 1)  # the module docstring
    try:
        path.write_text("# a comment on top\n\n\n" + body.replace("\n\n", "\n\n\n# more\n", 3), encoding="utf-8")
        assert keys(tree, tmp_path) == before
    finally:
        path.write_text(original, encoding="utf-8")


def test_plan_names_what_changed():
    p = StagePlan(stage="sft", key="new", dir="stages/sft/new", config={}, inputs={"pretrain": "p2", "collect": "c1"},
                  input_dirs={}, code_version="v2", code={"zerollm/finetune.py": "b", "zerollm/sft/stage.py": "s"},
                  fingerprint="")
    prev = Manifest(stage="sft", key="old", config={"lr": 0.0003, "max_steps": 4}, inputs={"pretrain": "p1",
                    "collect": "c1"}, files={}, metrics={}, code_version="v1",
                    code={"zerollm/finetune.py": "a", "zerollm/sft/stage.py": "s"})
    reasons = why_changed(p, prev, {}, {"lr": 0.000123, "max_steps": 4})
    assert reasons == ["sft.lr: 0.0003 → 0.000123", "code changed: zerollm/finetune.py",
                       "input pretrain changed: p1 → p2"]
