"""The tiny pipeline end to end through the real CLI, the real (ephemeral) Prefect and MLflow.

One workdir is shared by the tests of this module, in order: first run, cached rerun, changed settings,
a kill -9 during sft. (A kill -9 inside every stage: test_kill_anywhere; during pretrain: test_operations.)
"""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
ZEROLLM = str(Path(sys.executable).with_name("zerollm"))
STAGES = ["collect", "filter", "dedup", "tokenizer", "pretrain", "sft", "rlhf", "quantize", "evaluate"]
# a smaller world than tiny.yaml's 3 MB, and a few real steps of each training stage (the tiny recipe
# trains for minutes): these tests are about the pipeline's plumbing, not about the model
SMALL = ["--set=collect.sources=[{type: synthetic, language: en, seed: 0, target_mb: 0.5}]",
         "--set=tokenizer.vocab_size=1024", "--set=pretrain.shape={n_layer: 2, d_model: 64, n_head: 4, ffn_dim: 128}",
         "--set=pretrain.seq_len=128", "--set=pretrain.micro_batch=8", "--set=pretrain.batch_tokens=1024",
         "--set=pretrain.lr=3e-3", "--set=sft.max_length=128", "--set=rlhf.max_length=128",
         # filter and dedup each with a datatrove pool: the second run finding every stage cached checks
         # that no pool process of a stage writes into an output already committed
         "--set=dedup.workers=2"]
FAST = [*SMALL, *(f"--set={s}" for s in (
    "pretrain.max_steps=6", "pretrain.warmup_steps=2", "pretrain.eval_every=3", "pretrain.checkpoint_every=3",
    "pretrain.log_every=1", "pretrain.samples=1", "pretrain.probe={enabled: true, max_items: 16}",
    "sft.max_steps=4", "sft.checkpoint_every=2", "sft.log_every=1", "sft.probe={enabled: true, max_items: 16}",
    "rlhf.max_steps=2", "rlhf.onpolicy.prompts=8", "rlhf.probe={enabled: true, max_items: 16}", "rlhf.max_completion_length=12",
    "quantize.types=[Q8_0]", "quantize.parity_docs=4", "quantize.speed_tokens=16",
    "evaluate.models=[rlhf]", "evaluate.max_items=24", "evaluate.ppl_docs=4", "evaluate.max_new_tokens=16"))]
# (every model stage and quant type in the eval table: tests/evaluate, on the tiny run there)


def zerollm(*args, env=None, check=True, fast=True):
    """The CLI; `run` gets FAST's small world and few steps unless given them, or `fast=False`."""
    if fast and args and args[0] == "run" and FAST[0] not in args:
        args = (*args, *FAST)
    proc = subprocess.run([ZEROLLM, *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"zerollm {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def status(workdir):
    return {s["stage"]: s for s in json.loads(zerollm("status", "--workdir", str(workdir), "--json").stdout)["stages"]}


def kill_9_once(args: list[str], root: Path, pattern: str, what: str, settle: float = 0.0) -> list[Path]:
    """Start `zerollm run`, kill -9 its whole process group once `root/pattern` exists; the matches after."""
    proc = subprocess.Popen([ZEROLLM, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    try:
        while time.time() < deadline and not list(root.glob(pattern)):
            assert proc.poll() is None, f"run ended before {what}"
            time.sleep(0.05)
        assert list(root.glob(pattern)), f"never: {what}"
        time.sleep(settle)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return sorted(root.glob(pattern))


def rerun(args: list[str]) -> None:
    proc = subprocess.run([ZEROLLM, *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    w = tmp_path_factory.mktemp("e2e") / "work"
    t0 = time.time()
    zerollm("run", "--config", "configs/tiny.yaml", "--workdir", str(w))
    print(f"first run: {time.time() - t0:.1f}s")
    return w


def test_first_run_writes_manifests_and_mlflow_tree(workdir):
    st = status(workdir)
    assert list(st) == STAGES
    for name, s in st.items():
        assert s["cache_hit"] is False
        d = Path(s["dir"])
        assert d.parent == workdir.resolve() / "stages" / name and (d / "MANIFEST.json").is_file()
        manifest = json.loads((d / "MANIFEST.json").read_text())
        assert manifest["key"] == s["key"] and manifest["mlflow_run_id"] == s["mlflow_run_id"]
    assert st["collect"]["metrics"]["docs_out"] > 300
    pre = st["pretrain"]
    # six steps of a very small model only learn a little: below a uniform guess over the 1,024-token vocabulary
    assert pre["metrics"]["steps"] == 6 and pre["metrics"]["val_loss"] < math.log(1024) - 0.2
    manifest = json.loads((Path(pre["dir"]) / "MANIFEST.json").read_text())
    assert {"model/model.safetensors", "model/config.json", "model/tokenizer.json", "loss_curve.png"} <= set(
        manifest["files"])
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(Path(pre["dir"]) / "model")
    tok = AutoTokenizer.from_pretrained(Path(pre["dir"]) / "model")
    ids = tok("The bakery", return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=8, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 8 and isinstance(tok.decode(out[0]), str)
    assert st["dedup"]["metrics"]["exact_removed"] > 0 and st["dedup"]["metrics"]["minhash_removed"] > 0

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir.resolve() / 'mlflow.db'}")
    exp = client.get_experiment_by_name("zerollm")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert sorted(r.data.tags["zerollm.stage"] for r in children) == sorted(STAGES)
    dedup_run = next(r for r in children if r.data.tags["zerollm.stage"] == "dedup")
    assert dedup_run.data.params["threshold"] == "0.7"
    assert dedup_run.data.metrics["docs_out"] == st["dedup"]["metrics"]["docs_out"]
    arts = [a.path for a in client.list_artifacts(dedup_run.info.run_id)]
    assert "MANIFEST.json" in arts and "removed_ids.jsonl" in arts

    q = Path(st["quantize"]["dir"])
    assert {p.name for p in (q / "gguf").iterdir()} == {"model-F16.gguf", "model-Q8_0.gguf", "Modelfile"}
    rows = json.loads((Path(st["evaluate"]["dir"]) / "eval_table.json").read_text())
    assert {r["model"] for r in rows} == {"rlhf", "gguf:F16", "gguf:Q8_0"}
    mv = client.get_model_version_by_alias("zerollm-chat", "champion")
    assert mv.tags["gate"] == "passed" and mv.run_id == st["evaluate"]["mlflow_run_id"]
    eval_arts = {a.path for a in client.list_artifacts(mv.run_id)}
    assert {"eval_table.md", "eval_chart.png", "eval_table.json", "release"} <= eval_arts


def test_first_run_report_shows_every_section_in_a_browser(workdir):
    from mlflow.tracking import MlflowClient

    from tests.browser import broken_images, chromium, console_errors
    from zerollm.report.render import _cell

    rec = json.loads((workdir / "runs" / "latest.json").read_text())
    html = workdir.resolve() / rec["report"]
    assert html == workdir.resolve() / "reports" / rec["run_id"] / "report.html"
    st = status(workdir)
    rows = json.loads((Path(st["evaluate"]["dir"]) / "eval_table.json").read_text())
    acc = next(r["value"] for r in rows if r["model"] == "rlhf" and r["task"] == "qa_mc" and r["metric"] == "acc")
    q8 = next(r for r in st["quantize"]["metrics"] if r.startswith("q8_0") and r.endswith("size_mb"))
    numbers = [st["collect"]["metrics"]["docs_in"], int(st["tokenizer"]["metrics"]["vocab_size"]),
               int(st["pretrain"]["metrics"]["steps"]), acc, st["quantize"]["metrics"][q8]]
    client = MlflowClient(f"sqlite:///{workdir.resolve() / 'mlflow.db'}")
    assert "report/report.html" in {a.path for a in client.list_artifacts(rec["mlflow_run_id"], "report")}

    with chromium() as page:
        page.get(html.as_uri())
        ids = page.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
        assert ids == ["run", "data", "data-changes", "tokenizer", "training", "quantization", "taught", "links"]  # stage order
        body = page.find_element("tag name", "body").text
        for n in numbers:
            assert _cell(n) in body, n
        assert "Not in this run" not in body and "could not be drawn" not in body
        assert "It passed." in body and "gguf:Q8_0" in body
        assert page.execute_script("return document.images.length") >= 4  # funnel, curves, eval, quant
        assert broken_images(page) == [] and console_errors(page) == []
        (REPO / "test-artifacts").mkdir(exist_ok=True)
        page.set_window_size(1280, min(page.execute_script("return document.body.scrollHeight") + 50, 16000))
        page.save_screenshot(str(REPO / "test-artifacts" / "report-tiny.png"))


def test_second_run_is_all_cache_hits(workdir):
    t0 = time.time()
    zerollm("run", "--config", "configs/tiny.yaml", "--workdir", str(workdir))
    print(f"cached rerun: {time.time() - t0:.1f}s")
    st = status(workdir)
    assert all(s["cache_hit"] for s in st.values()), st

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir.resolve() / 'mlflow.db'}")
    hit = client.get_run(st["dedup"]["mlflow_run_id"])
    assert hit.data.tags["cache_hit"] == "true"
    assert hit.data.tags["produced_by_run_id"] == json.loads(
        (Path(st["dedup"]["dir"]) / "MANIFEST.json").read_text())["mlflow_run_id"]
    first = json.loads(zerollm("compare", "latest~1", "latest", "-w", str(workdir), "--json").stdout)["a"]["id"]
    assert all(s["built_by_run"] == first and s["built_seconds"] > 0 for s in st.values())
    rec = json.loads((workdir / "runs" / "latest.json").read_text())
    md = (workdir / rec["report"]).with_suffix(".md").read_text(encoding="utf-8")
    assert "built by run" in md and md.count(first) >= len(STAGES)  # the run that built each stage


def test_a_moved_workdir_keeps_working(workdir, tmp_path):
    """status, plan, report, chat, serve's model and resume read through the workdir they are given, with
    the original out of reach; nothing follows MLflow's absolute URIs back to it."""
    import shutil

    from zerollm.serving import resolve

    moved = tmp_path / "moved"
    shutil.copytree(workdir, moved, symlinks=True)
    away = workdir.with_name(workdir.name + ".away")
    workdir.rename(away)
    try:
        st = status(moved)
        assert all(Path(s["dir"]).is_relative_to(moved.resolve()) for s in st.values())
        proc = subprocess.run([sys.executable, "-m", "zerollm", "plan", "--config", "configs/tiny.yaml", "--workdir",
                               str(moved), *FAST, "--json"], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert {p["action"] for p in json.loads(proc.stdout)["stages"]} == {"reuse"}
        for ref in ("latest", "champion"):
            assert resolve(ref, moved).resolve().is_relative_to(moved.resolve()), ref
        chat = subprocess.run([ZEROLLM, "chat", "-w", str(moved), "--max-tokens", "8"], input="Hello\n/quit\n",
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert chat.returncode == 0, chat.stderr[-2000:]
        out = zerollm("report", "-w", str(moved)).stdout
        html = next(moved.glob("reports/*/report.html"))
        assert str(moved.resolve()) in out.replace("\n", "") and str(workdir) not in html.read_text(encoding="utf-8")

        run = ["run", "--config", "configs/tiny.yaml", "--workdir", str(moved), *FAST]
        failed = zerollm(*run, "--force", "tokenizer", "--set", "faults.fail_once=tokenizer", check=False)
        assert failed.returncode == 1
        zerollm("resume", "-w", str(moved))
        rec = json.loads((moved / "runs" / "latest.json").read_text())
        assert rec["status"] == "completed" and rec["resumed_from"]
        assert all(s["cache_hit"] and not Path(s["dir"]).is_absolute() for s in rec["stages"])
        assert not workdir.exists(), "nothing was written to the old place"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        away.rename(workdir)

def test_probe_metrics_at_every_model_stage(workdir):
    st = status(workdir)
    for stage in ("pretrain", "sft", "rlhf"):
        m = st[stage]["metrics"]
        assert {"qa_mc_accuracy", "qa_mc_chance", "qa_exact_match", "qa_exact_match_seen"} <= set(m), stage
    table = [json.loads(line) for line in (Path(st["rlhf"]["dir"]) / "probe.jsonl").read_text().splitlines()]
    assert {"question", "gold", "answer_pretrain", "answer_sft", "answer_rlhf"} <= set(table[0])


def test_changed_dedup_threshold_reruns_dedup_only_downstream(workdir):
    before = status(workdir)
    zerollm("run", "--config", "configs/tiny.yaml", "--workdir", str(workdir), "--until", "pretrain",
            "--set", "dedup.threshold=0.71")
    st = status(workdir)
    assert st["collect"]["cache_hit"] and st["filter"]["cache_hit"]
    assert not st["dedup"]["cache_hit"] and not st["tokenizer"]["cache_hit"] and not st["pretrain"]["cache_hit"]
    assert st["collect"]["key"] == before["collect"]["key"] and st["dedup"]["key"] != before["dedup"]["key"]


def test_changed_pretrain_setting_reruns_pretrain_and_what_follows(workdir):
    zerollm("run", "--config", "configs/tiny.yaml", "--workdir", str(workdir), "--until", "sft", *FAST,
            "--set", "pretrain.lr=0.0025")  # after FAST: the later --set wins
    st = status(workdir)
    assert all(st[s]["cache_hit"] for s in STAGES[:4])
    assert not st["pretrain"]["cache_hit"] and not st["sft"]["cache_hit"]


def test_kill_9_during_sft_resumes_from_checkpoint(workdir):
    args = ["run", "--config", "configs/tiny.yaml", "--workdir", str(workdir), "--until", "sft", *FAST,
            "--set", "sft.max_steps=16"]  # after FAST: the later --set wins
    root = workdir / "stages" / "sft"
    ckpts = kill_9_once(args, root, "*.work/checkpoint-*/trainer_state.json", "sft wrote a checkpoint")
    first = min(int(c.parent.name.split("-")[1]) for c in ckpts)
    rerun(args)
    st = status(workdir)
    assert all(st[s]["cache_hit"] for s in STAGES[:5]), "every stage up to pretrain is reused"
    m = st["sft"]["metrics"]
    assert m["resumed_from_step"] >= first and m["steps"] == 16
    assert not list(root.glob("*.work")), "scratch checkpoints are removed once the stage is committed"


def test_other_rlhf_method_reruns_rlhf_only(workdir):
    zerollm("run", "--config", "configs/tiny.yaml", "--workdir", str(workdir), "--until", "rlhf", *FAST,
            "--set", "sft.max_steps=16", "--set", "rlhf.method=grpo")
    st = status(workdir)
    assert all(st[s]["cache_hit"] for s in STAGES[:6]) and not st["rlhf"]["cache_hit"]
    assert "reward_mean" in st["rlhf"]["metrics"] and "qa_exact_match" in st["rlhf"]["metrics"]


def test_other_quant_types_rerun_quantize_and_evaluate_only(workdir):
    zerollm("run", "--config", "configs/tiny.yaml", "--workdir", str(workdir), *FAST,
            "--set", "quantize.types=[Q6_K]")  # after FAST: the later --set wins
    st = status(workdir)
    assert [s for s in STAGES if not st[s]["cache_hit"]] == ["quantize", "evaluate"]
    files = {p.name for p in (Path(st["quantize"]["dir"]) / "gguf").iterdir()}
    assert {"model-F16.gguf", "model-Q6_K.gguf", "model-Q8_0.gguf"} <= files and "model-Q4_K_M.gguf" not in files


def test_bad_config_fails_before_running(workdir):
    proc = zerollm("run", "--workdir", str(workdir), "--set", "dedup.treshold=0.7", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("config error: dedup.treshold: unknown key; allowed: ")
