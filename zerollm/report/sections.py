"""The report's sections, one function each, in the order of the stages. Each reads only what the
run left on disk and says plainly what is missing when a stage did not run."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import yaml

from zerollm import drops
from zerollm.report import charts
from zerollm.report.blocks import Code, Image, Links, Para, Section, Table, Tokens, Warn
from zerollm.report.view import RunView
from zerollm.stage import STAGE_NAMES

EXAMPLES_PER_REASON = 2
SNIPPET = 240
# one fixed sentence per language: the tokenizer's cost on a language is shown even when the run's
# held-out text has none of it (a tokenizer trained on English alone spends many tokens on Chinese)
FIXED = {"en": "The baker in the old harbour town opens her shop at six every morning.",
         "zh": "老港口小镇的面包师每天早上六点开门营业。"}


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "–"


def _snippet(text: str, n: int = SNIPPET) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _not_run(sec: Section, view: RunView, names: list[str]) -> Section:
    missing = view.missing(*names)
    if missing:
        why = {"failed": "failed", "not run": "did not run"}
        parts = [f"{n} {why.get(view.stage(n).status, 'has no output')}" for n in missing]
        until = view.record.get("until")
        beyond = until and any(STAGE_NAMES.index(n) > STAGE_NAMES.index(until) for n in missing)
        tail = f" (this run stopped after {until})" if beyond else ""
        sec.add(Warn("Not in this run: " + "; ".join(parts) + tail + "."))
    return sec


# --- the run ----------------------------------------------------------------------------------------


def run_section(view: RunView, links: dict) -> Section:
    rec = view.record
    sec = Section("run", "The run")
    took = (rec.get("finished") or time.time()) - rec.get("started", time.time())
    status = rec.get("status", "?")
    sec.add(Para(f"Run {view.run_id} of config “{view.config.get('name', '?')}”: {status}. Started "
                 f"{_when(rec.get('started'))}, {took:.0f} s" + (f", stopped after {rec['until']}" if rec.get("until")
                                                                   else "")
                 + (f", resuming {rec['resumed_from']}" if rec.get("resumed_from") else "") + "."))
    if rec.get("error"):
        sec.add(Warn(f"The run failed: {rec['error'][:400]}"))
    rows = []
    for s in view.stages.values():
        rows.append([s.name, s.status, round(s.seconds, 1) if s.seconds is not None else None,
                     (s.key or "")[:12] or None, "yes" if s.status == "cached" else ("no" if s.done else None)])
    sec.add(Table(["stage", "status", "seconds", "key", "cache hit"], rows, "Stages: time and cache hit/miss"))
    m = rec.get("machine") or {}
    if m:
        sec.add(Table(["machine", ""], [[k, m.get(k)] for k in ("host", "cpu", "cpus", "memory_gb", "accelerator",
                                                                   "platform") if m.get(k) is not None]))
        sec.add(Table(["package", "version"], [[k, v] for k, v in (m.get("versions") or {}).items()],
                      "Versions"))
    else:
        sec.add(Para("Machine and versions were not recorded by the zerollm that made this run."))
    sec.add(Code(yaml.safe_dump(view.config, sort_keys=False, allow_unicode=True), "The whole config"))
    return sec


# --- data funnel ------------------------------------------------------------------------------------


def _examples(view: RunView) -> list[list]:
    rows: list[list] = []
    collect, filt, dedup = view.stage("collect"), view.stage("filter"), view.stage("dedup")
    seen: dict[str, int] = {}

    def take(stage: str, reason: str, ident, text) -> None:
        k = f"{stage}/{reason}"
        if seen.get(k, 0) < EXAMPLES_PER_REASON:
            seen[k] = seen.get(k, 0) + 1
            rows.append([stage, reason, ident, _snippet(text)])

    for r in collect.jsonl("rejects.jsonl", 500):
        take("collect", r.get("reason", "?"), r.get("where"), r.get("sample") or "")
    for r in filt.jsonl("dropped_examples.jsonl", 500):
        take("filter", f"{r.get('step')}: {r.get('reason')}", r.get("id"), r.get("text", ""))
    for r in dedup.jsonl("removed/exact.jsonl", EXAMPLES_PER_REASON):
        take("dedup", "exact duplicate", f"{r.get('id')} (of {r.get('of')})", r.get("text", ""))
    for sub, label in (("minhash", "near duplicate"), ("contaminated", "contains an evaluation item")):
        for path in sorted((dedup.path(f"removed/{sub}") or Path("/nonexistent")).glob("*.jsonl.gz"))[:1]:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line, _ in zip(f, range(EXAMPLES_PER_REASON)):
                    r = json.loads(line)
                    take("dedup", label, r.get("id"), r.get("text", ""))
    return rows


def funnel_section(view: RunView) -> Section:
    sec = Section("data", "Data funnel")
    collect = view.stage("collect")
    if not collect.done:
        return _not_run(sec, view, ["collect"])
    losses = [loss for loss in (drops.stage_loss(n, view.stage(n).metrics, view.stage(n).dir, view.config)
                                for n in ("collect", "filter", "dedup") if view.stage(n).done) if loss]
    warnings = [loss.line() for loss in losses if loss.share > drops.WARN_SHARE]
    for w in warnings:
        sec.add(Warn(w.removeprefix("warning: ")))
    start = int(collect.metrics.get("docs_in", 0))
    steps = [("collected (records read)", start, 0)]
    left = start
    table = []
    for loss in losses:
        groups: dict[str, int] = {}
        for r in loss.reasons:
            label = f"{loss.stage}: {r.step or r.reason}"
            groups[label] = groups.get(label, 0) + r.count
            table.append([loss.stage, r.step or "–", r.reason, r.count,
                          f"{r.count / loss.docs_in:.1%}" if loss.docs_in else "–", r.key])
        for label, n in groups.items():
            left -= n
            steps.append((label, left, n))
        left = loss.docs_out  # the stage's own count is the truth
    tok = view.stage("tokenizer")
    if tok.done:
        train, val = int(tok.metrics.get("train_docs", 0)), int(tok.metrics.get("val_docs", 0))
        steps.append(("held out for validation", train, val))
        sec.add(Para(f"{start:,} records in, {train:,} documents trained on ({val:,} held out for validation): "
                     f"{train / start:.0%} of what was collected." if start else "No records were collected."))
    sec.add(Image("funnel.png", charts.funnel(steps), "data funnel: documents left after each step"))
    sec.add(Table(["stage", "documents in", "documents out", "dropped", "share dropped"],
                  [[x.stage, x.docs_in, x.docs_out, x.docs_in - x.docs_out, f"{x.share:.1%}"] for x in losses],
                  "Documents per stage"))
    if table:
        sec.add(Table(["stage", "step", "reason", "documents", "share of stage input", "config key that tunes it"],
                      table, "Each loss by reason"))
    ex = _examples(view)
    if ex:
        sec.add(Table(["stage", "reason", "document", "text"], ex, "A few dropped examples per reason"))
    return _not_run(sec, view, ["filter", "dedup"])


# --- tokenizer --------------------------------------------------------------------------------------


def _is_zh(text: str) -> bool:
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    return cjk > 0.2 * max(1, len(text.strip()))


def tokenizer_section(view: RunView) -> Section:
    sec = Section("tokenizer", "Tokenizer")
    tok = view.stage("tokenizer")
    model = tok.path("hf/tokenizer.model")
    if not tok.done or model is None:
        return _not_run(sec, view, ["tokenizer"])
    import sentencepiece as spm

    from zerollm.heldout import val_token_docs

    sp = spm.SentencePieceProcessor(model_file=str(model))
    texts = [sp.decode(d) for d in val_token_docs(tok.dir, 200, 1 << 30)]
    by_lang: dict[str, list[str]] = {"en": [], "zh": []}
    for t in texts:
        by_lang["zh" if _is_zh(t) else "en"].append(t)
    rows = []
    for lang, group in by_lang.items():
        if group:
            n_bytes = sum(len(t.encode("utf-8")) for t in group)
            n_tok = sum(len(sp.encode(t)) for t in group)
            rows.append([f"held-out {lang} text ({len(group)} documents)", n_bytes, n_tok, n_bytes / max(n_tok, 1)])
    for lang, text in FIXED.items():
        n_tok = len(sp.encode(text))
        rows.append([f"fixed {lang} sentence" + ("" if by_lang[lang] else f" (no {lang} in this run's data)"),
                     len(text.encode("utf-8")), n_tok, len(text.encode("utf-8")) / max(n_tok, 1)])
    m = tok.metrics
    sec.add(Para(f"Vocabulary {int(m.get('vocab_size', sp.get_piece_size())):,} pieces "
                 f"({m.get('vocab_used_frac', 0):.0%} used on the training text); "
                 f"{int(m.get('train_tokens', 0)):,} training tokens. More bytes per token means fewer tokens "
                 "for the same text: cheaper training and a longer effective context."))
    sec.add(Table(["text", "bytes", "tokens", "bytes per token"], rows, "Bytes per token"))
    sample = next((t for t in texts if len(t) > 40), FIXED["en"])
    sample = sample[:160]
    pieces = [sp.id_to_piece(i).replace("▁", " ") for i in sp.encode(sample)]
    sec.add(Tokens(pieces, f"A held-out text token by token ({len(pieces)} tokens for {len(sample)} characters):"))
    other = "en" if _is_zh(sample) else "zh"  # the other language, token by token
    text = by_lang[other][0][:80] if by_lang[other] else FIXED[other]
    name = {"en": "English", "zh": "Chinese"}[other]
    sec.add(Tokens([sp.id_to_piece(i).replace("▁", " ") for i in sp.encode(text)], f"{name}, token by token"
                   + ("" if by_lang[other] else f" (no {name} in this run's data: pieces like <0xE8> are raw "
                      "bytes, the tokenizer's fallback for what it never saw)") + ":"))
    return sec


# --- training curves --------------------------------------------------------------------------------


def _series(rows: list[dict], keys: list[str]) -> dict[str, tuple[list, list]]:
    rows = [r for r in rows if "train_runtime" not in r]  # the Trainer's closing summary, not a step
    out = {}
    for k in keys:
        pts = [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float)) and r.get("step") is not None]
        if pts:
            out[k] = ([p[0] for p in pts], [p[1] for p in pts])
    return out


CURVES = {
    "pretrain": [("pretrain loss", ["train_loss", "val_loss"]), ("pretrain val bits per byte", ["val_bpb"])],
    "sft": [("sft loss", ["loss"]), ("sft token accuracy", ["mean_token_accuracy"])],
    "rlhf": [("rlhf loss", ["loss"]),
             ("rlhf rewards", ["rewards/chosen", "rewards/rejected", "rewards/margins", "reward", "reward_std"]),
             ("rlhf KL", ["kl", "objective/kl"]), ("rlhf preference accuracy", ["rewards/accuracies"])],
}


def curves_section(view: RunView) -> Section:
    sec = Section("training", "Training curves")
    panels: dict = {}
    rows_by_stage = {"pretrain": view.stage("pretrain").jsonl("metrics.jsonl"),
                     "sft": view.stage("sft").jsonl("train_log.jsonl"),
                     "rlhf": view.stage("rlhf").jsonl("train_log.jsonl")}
    table = []
    for stage, rows in rows_by_stage.items():
        for title, keys in CURVES[stage]:
            s = _series(rows, keys)
            if s:
                panels[title] = s
        m = view.stage(stage).metrics
        if view.stage(stage).done:
            table.append([stage, m.get("steps"), m.get("train_loss", m.get("loss")), m.get("val_loss"),
                          m.get("val_bpb"), m.get("reward_mean"), m.get("resumed_from_step")])
    if panels:
        sec.add(Image("curves.png", charts.curves(panels), "training curves"))
    if table:
        sec.add(Table(["stage", "steps", "train loss", "val loss", "val bpb", "reward mean", "resumed from step"],
                      table, "Final numbers"))
    for stage in ("sft", "rlhf"):
        if view.stage(stage).done and not rows_by_stage[stage]:
            sec.add(Para(f"{stage}: no step log in its directory (made by an older zerollm); "
                         "its curves are in its MLflow run."))
    rm = view.stage("rlhf").jsonl("train_log_rm.jsonl")
    if rm:
        sec.add(Image("reward_model.png", charts.curves({"reward model loss": _series(rm, ["loss"]),
                                                         "reward model accuracy": _series(rm, ["accuracy"])}),
                      "reward model training"))
    return _not_run(sec, view, ["pretrain", "sft", "rlhf"])


# --- what each stage taught -------------------------------------------------------------------------


def taught_section(view: RunView) -> Section:
    sec = Section("taught", "What each stage taught")
    ev = view.stage("evaluate")
    rows = ev.json("eval_table.json") if ev.done else None
    if not rows:
        for stage in ("pretrain", "sft", "rlhf"):  # the per-stage probe, when evaluate did not run
            m = view.stage(stage).metrics
            if "qa_exact_match" in m:
                sec.add(Para(f"{stage} probe: exact match {m['qa_exact_match']:.3f}, multiple choice "
                             f"{m.get('qa_mc_accuracy', float('nan')):.3f}."))
        return _not_run(sec, view, ["evaluate"])
    from zerollm.evaluate.report import PRIMARY

    models = list(dict.fromkeys(r["model"] for r in rows))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    cells = {(r["model"], r["task"], r["metric"]): r["value"] for r in rows}
    header = ["model"] + [f"{t} · {PRIMARY.get(t, ('acc',))[0]}" for t in tasks]
    table = [[m] + [cells.get((m, t, PRIMARY.get(t, ("acc",))[0])) for t in tasks] for m in models]
    sec.add(Para("The same questions for every model: multiple choice (qa_mc), a short answer checked word for "
                 "word (qa_gen), and held-out text (heldout_ppl, bits per byte: lower is better)."))
    sec.add(Table(header, table, "Model × task"))
    chart = ev.path("eval_chart.png")
    if chart:
        sec.add(Image("eval_chart.png", chart.read_bytes(), "evaluation chart: model × task"))
    answers = ev.jsonl("answers.jsonl", 400)
    if answers:
        gate = ev.json("gate.json") or {}
        keys = [k for k in answers[0] if k.startswith("answer_") and not k.startswith("answer_gguf:")]
        gguf = [k for k in answers[0] if k.startswith("answer_gguf:")]
        served = f"answer_gguf:{gate.get('serve_type')}"
        keys += [served] if served in gguf else gguf[:1]  # the checkpoints and the GGUF that is served
        def varied(r):  # questions where the models disagree teach the most
            return -len({bool(r.get("correct_" + k[7:])) for k in keys})
        picked = sorted(answers, key=varied)[:6]
        sec.add(Table(["question", "gold"] + [k[7:] for k in keys],
                      [[r["question"], r["gold"]] + [("✓ " if r.get("correct_" + k[7:]) else "✗ ")
                                                      + _snippet(r.get(k, ""), 80) for k in keys] for r in picked],
                      "Sample answers to the same questions"))
    return sec


# --- quantization -----------------------------------------------------------------------------------


def quant_section(view: RunView) -> Section:
    sec = Section("quantization", "Quantization")
    q = view.stage("quantize")
    rows = q.json("quant_table.json") if q.done else None
    if not rows:
        return _not_run(sec, view, ["quantize"])
    sec.add(Image("quant.png", charts.quant(rows), "GGUF file size against quality per type"))
    sec.add(Table(["type", "size MB", "bits/weight", "Δppl %", "top-1", "tok/s", "× HF"],
                  [[r["type"], r["size_mb"], r["bpw"], r["ppl_delta_pct"], r["top1"], r["tok_per_s"],
                    r["speedup"]] for r in rows], "Each GGUF type against the HF model it came from"))
    gate = view.stage("evaluate").json("gate.json") if view.stage("evaluate").done else None
    if gate:
        verdict = "failed" if gate.get("failures") else "passed"
        sec.add(Para(f"Gate: the served file ({gate['serve_type']}) may lose at most {gate['tolerance']:.0%} against "
                     f"{gate['source']} on each primary score. It {verdict}."))
        last = view.workdir / "registry" / "last_gate.json"
        reg = json.loads(last.read_text(encoding="utf-8")) if last.is_file() else {}
        if str(reg.get("version")) != str(int(view.stage("evaluate").metrics.get("registry_version", -1))):
            reg = {}  # the registry's last gate is another run's (or this run reused evaluate from the cache)
        checks = reg.get("checks") or gate.get("checks", [])
        sec.add(Table(["check", "task", "metric", "served file", "reference", "tolerance", "ok"],
                      [[c["check"], c["task"], c["metric"], c["new"], c["reference"], f"{c['tolerance']:.0%}",
                        "yes" if c["ok"] else "NO"] for c in checks], "The gate's checks"))
        if reg:
            after = reg.get("champion_after")
            sec.add(Para(f"Registry: {reg['registered_model']} v{reg['version']} registered; "
                         f"{reg['alias']} → " + (f"v{after}" if after else "no version")
                         + (" (promoted)." if reg.get("passed") else " (unchanged: the gate failed).")))
    else:
        _not_run(sec, view, ["evaluate"])
    return sec


# --- links ------------------------------------------------------------------------------------------


def links_section(view: RunView, links: dict) -> Section:
    sec = Section("links", "Links")
    items = []
    if links.get("prefect"):
        items.append(("Prefect flow run", links["prefect"]))
    if links.get("mlflow"):
        items.append(("MLflow run of the pipeline", links["mlflow"]))
    for name, url in links.get("stages", {}).items():
        items.append((f"MLflow run of {name}", url))
    if items:
        sec.add(Links(items))
    sec.add(Para(f"Local stores open with: zerollm ui --workdir {view.workdir} (Prefect on 127.0.0.1:4200, "
                 "MLflow on 127.0.0.1:5000)."))
    if not items:
        sec.add(Para("Tracking was off for this run: no MLflow runs to link."))
    return sec
