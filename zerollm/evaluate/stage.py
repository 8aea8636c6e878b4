"""evaluate stage: one lm-eval suite over every model checkpoint (HF backend) and every GGUF file
(llama.cpp, in process), one model × task table, and the quantization gate's first check.

Registering the model and moving the champion alias happen after the stage has committed
(`publish`), because they depend on the registry's state, which no stage key can cover.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from zerollm.evaluate import contamination, gate, report
from zerollm.evaluate import tasks as local_tasks
from zerollm.evaluate.config import EvaluateConfig
from zerollm.io.shards import write_jsonl
from zerollm.llamacpp import cpu_threads
from zerollm.stage import MODEL_STAGES, Stage, StageContext, StageResult

Config = EvaluateConfig
TABLE = "eval_table.json"


class EvaluateError(ValueError):
    pass


def _quiet_lm_eval() -> None:
    import logging

    for name in ("lm-eval", "lm_eval", "datasets", "evaluate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def task_manager(with_registry: bool, include_path: str | None = None):
    """lm-eval indexes its ~14k task YAMLs on every TaskManager() (12 s on 2 cores): build one per
    stage, and without the registry when only the local tasks run."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_defaults=with_registry, include_path=include_path)


def registry_tasks(names: list[str], manager, log) -> tuple[list[str], list[str]]:
    """Registry tasks whose data loads now; the rest skipped with one line each."""
    if not names:
        return [], []
    from lm_eval.tasks import get_task_dict

    ok, skipped = [], []
    for name in names:
        if name not in manager.all_tasks:
            log.warning("evaluate: task %r skipped: not an lm-eval task or group", name)
            skipped.append(name)
            continue
        try:
            get_task_dict([name], manager)
        except Exception as exc:  # offline: DatasetNotFoundError, ConnectionError, HF hub errors
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            log.warning("evaluate: task %r skipped: its data is not reachable (%s: %s); point its "
                        "dataset_path at a local copy to score it", name, type(exc).__name__, first)
            skipped.append(name)
            continue
        ok.append(name)
    return ok, skipped


def _rows(model: str, results: dict, items: dict[str, int], contaminated: dict[str, int]) -> list[dict]:
    rows = []
    for full_task, metrics in results.get("results", {}).items():
        task = full_task.removeprefix(local_tasks.PREFIX)
        for key, value in metrics.items():
            if "," not in key or "_stderr" in key or not isinstance(value, (int, float)):
                continue
            metric, filt = key.split(",", 1)
            stderr = metrics.get(f"{metric}_stderr,{filt}")
            rows.append({"model": model, "task": task, "metric": metric, "value": float(value),
                         "stderr": float(stderr) if isinstance(stderr, (int, float)) else None,
                         "items": items.get(task, results.get("n-samples", {}).get(full_task, {}).get("effective")),
                         "contaminated": contaminated.get(task, 0)})
    return rows


def _evaluate(lm, local: list, extra: list[str], limit: int, manager) -> dict:
    """The local tasks in full, then the registry tasks (at most `limit` items each), merged."""
    import lm_eval

    res = lm_eval.simple_evaluate(model=lm, tasks=local, task_manager=manager, log_samples=True,
                                  bootstrap_iters=200)
    if extra:
        more = lm_eval.simple_evaluate(model=lm, tasks=extra, task_manager=manager, log_samples=False,
                                       bootstrap_iters=200, limit=limit or None)
        for key in ("results", "n-samples"):
            res.setdefault(key, {}).update(more.get(key) or {})
    return res


def _answers(model: str, results: dict, table: dict[str, dict]) -> None:
    """Each model's qa_gen reply per question, side by side (`answers.jsonl`)."""
    for ex in (results.get("samples") or {}).get(local_tasks.PREFIX + "qa_gen", []):
        doc = ex["doc"]
        row = table.setdefault(doc["id"], {"id": doc["id"], "question": doc["question"], "gold": doc["answer"]})
        reply = ex["filtered_resps"][0]
        row[f"answer_{model}"] = reply if isinstance(reply, str) else str(reply)
        row[f"correct_{model}"] = bool(ex.get("exact_match"))


def run(cfg: EvaluateConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    _quiet_lm_eval()
    import torch
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import get_task_dict
    from transformers import AutoTokenizer

    from zerollm.evaluate.llamacpp_lm import LlamaCppLM

    t_start = time.time()
    threads = cpu_threads(cfg.threads)
    torch.set_num_threads(threads)
    quant = json.loads((inputs["quantize"] / "MANIFEST.json").read_text(encoding="utf-8"))
    qsummary, qconfig = quant["summary"], quant["config"]
    source = qsummary["source"]
    tok = AutoTokenizer.from_pretrained(inputs[source] / "model", trust_remote_code=False)

    configs, by_task = local_tasks.build(inputs["collect"], inputs["tokenizer"], tok, out_dir / "tasks",
                                         cfg.max_items, cfg.ppl_docs, cfg.max_new_tokens)
    if not configs:
        raise EvaluateError("evaluate: no local task could be built (empty eval set and no validation text)")
    (out_dir / "tasks" / "tasks.json").write_text(json.dumps(
        [{k: v for k, v in c.items() if not callable(v)} for c in configs], indent=2), encoding="utf-8")
    docs = contamination.removed_docs(inputs["dedup"])
    share = contamination.threshold(inputs["dedup"])
    contaminated = {t: contamination.found_in_training(its, docs, share) for t, its in by_task.items()
                    if t != "heldout_ppl"}
    items = {t: len(its) for t, its in by_task.items()}
    manager = task_manager(bool(cfg.tasks), cfg.include_path)
    local = list(get_task_dict(configs, manager).values())  # datasets loaded once, reused for every model
    extra, skipped = registry_tasks(cfg.tasks, manager, ctx.log)

    rows: list[dict] = []
    answers: dict[str, dict] = {}
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # the gate compares the served file with the checkpoint it was made from: that one is always scored
    scored = ctx.model_stages if cfg.models is None else cfg.models
    models = list(dict.fromkeys([*scored, source])) if cfg.gguf else list(scored)
    for stage in models:
        ctx.log.info("evaluate: %s (HF) at %.1fs", stage, time.time() - t_start)
        # documents were separated by end-of-text in pretraining, so that (not BOS) starts an empty context,
        # as in LlamaCppLM
        lm = HFLM(pretrained=str(inputs[stage] / "model"), device=device, batch_size=cfg.batch_size,
                  dtype="float32", trust_remote_code=False, prefix_token_id=tok.eos_token_id)
        res = _evaluate(lm, local, extra, cfg.limit, manager)
        rows += _rows(stage, res, items, contaminated)
        _answers(stage, res, answers)
        del lm, res
    n_ctx = int(qsummary.get("n_ctx", 0))
    if cfg.gguf:
        for qtype in [r["type"] for r in qsummary["table"]]:  # the quantize table's order: F16 first
            rel = qsummary["files"][qtype]
            ctx.log.info("evaluate: %s (llama.cpp) at %.1fs", qtype, time.time() - t_start)
            lm = LlamaCppLM(inputs["quantize"] / rel, n_ctx=n_ctx, threads=threads)
            try:
                res = _evaluate(lm, local, extra, cfg.limit, manager)
                rows += _rows(f"gguf:{qtype}", res, items, contaminated)
                _answers(f"gguf:{qtype}", res, answers)
            finally:
                lm.llm.close()

    (out_dir / TABLE).write_text(json.dumps(rows, indent=1), encoding="utf-8")  # one row per model × task × metric
    write_jsonl(out_dir / "answers.jsonl", answers.values())
    md = report.markdown(rows)
    (out_dir / "eval_table.md").write_text(md, encoding="utf-8")
    report.chart(rows, out_dir / "eval_chart.png")

    serve = f"gguf:{qsummary['serve_type']}"
    checks = gate.compare(gate.primary_scores(rows, serve), gate.primary_scores(rows, source),
                          float(qconfig["max_regression"]), "quant") if cfg.gguf else []
    gate_doc = {"serve_type": qsummary["serve_type"], "source": source, "tolerance": float(qconfig["max_regression"]),
                "serve_file": (inputs["quantize"] / qsummary["serve_file"]).relative_to(ctx.workdir).as_posix(),
                "checks": checks,
                "failures": gate.failures(checks), "scores": gate.primary_scores(rows, serve)}
    (out_dir / "gate.json").write_text(json.dumps(gate_doc, indent=2), encoding="utf-8")
    _release(inputs, qsummary, source, out_dir, md)

    metrics = {f"{r['model'].removeprefix('gguf:')}.{r['task']}.{r['metric']}": r["value"] for r in rows}
    metrics.update({f"contaminated.{t}": float(n) for t, n in contaminated.items()})
    metrics["gate_quant_ok"] = float(not gate_doc["failures"])
    metrics["tasks_skipped"] = float(len(skipped))
    for line in md.splitlines():
        ctx.log.info("%s", line)
    return StageResult(metrics=metrics, artifacts=["eval_table.md", "eval_chart.png", "gate.json", "tasks/tasks.json",
                                                   "answers.jsonl"],
                       summary={"table": TABLE, "gate": "gate.json", "release": "release", "source": source,
                                "serve_type": qsummary["serve_type"], "skipped_tasks": skipped},
                       tables={"eval_table.json": rows})


def fingerprint(cfg: EvaluateConfig, ctx: StageContext) -> str:
    """lm-eval and llama.cpp versions (either changes the scores) and the extra task files."""
    import hashlib
    from importlib.metadata import version

    h = hashlib.sha256()
    if cfg.include_path:
        for f in sorted(Path(cfg.include_path).rglob("*")):
            if f.is_file():
                h.update(str(f.relative_to(cfg.include_path)).encode() + f.read_bytes())
    return f"lm_eval={version('lm_eval')},llama_cpp_python={version('llama_cpp_python')},tasks={h.hexdigest()[:16]}"


def publish(out_dir: Path, cfg: EvaluateConfig, tracker, run_id: str | None, log) -> dict[str, float]:
    from zerollm.evaluate.registry import promote

    return promote(out_dir, cfg.registry, tracker, run_id, log)


def _link(src: Path, dst: Path) -> None:
    """Hard link (no second copy of the weights on disk), copy across filesystems."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _release(inputs: dict[str, Path], qsummary: dict, source: str, out_dir: Path, eval_md: str) -> None:
    """`release/`: what a registry version carries — the HF checkpoint with its model card, the GGUF
    files with the Modelfile, and the evaluation table."""
    rel = out_dir / "release"
    for f in sorted((inputs[source] / "model").iterdir()):
        if f.is_file():
            _link(f, rel / "model" / f.name)
    for f in sorted((inputs["quantize"] / "gguf").iterdir()):
        if f.is_file():
            _link(f, rel / "gguf" / f.name)
    (rel / "model" / "README.md").write_text(
        report.model_card("zerollm chat model", source, eval_md, qsummary.get("table", [])), encoding="utf-8")
    (rel / "eval_table.md").write_text(eval_md, encoding="utf-8")


STAGE = Stage(
    name="evaluate", config=EvaluateConfig, run=run, fingerprint=fingerprint, publish=publish, table=TABLE,
    inputs=("collect", "dedup", "tokenizer", MODEL_STAGES, "quantize"),
    reads="every model stage's model/, quantize: GGUF files; collect: eval set; tokenizer: validation docs; "
          "dedup: removed contaminated docs",
    writes="eval_table (model × task, stderr, contamination), eval_chart.png, gate.json, release/ (model card, "
           "GGUF, Modelfile) registered in MLflow",
    view="zerollm.evaluate.view",
)
