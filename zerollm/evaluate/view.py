"""How the run report shows evaluate: every model on the same questions, and sample answers."""

from __future__ import annotations

from zerollm.report.blocks import Image, Para, Section, Table
from zerollm.report.sections import not_run, snippet


def section(view) -> Section:
    sec = Section("taught", "What each stage taught")
    ev = view.stage("evaluate")
    rows = ev.json("eval_table.json") if ev.done else None
    if not rows:
        for stage in view.registry.model_stages:  # the per-stage probe, when evaluate did not run
            m = view.stage(stage).metrics
            if "qa_exact_match" in m:
                sec.add(Para(f"{stage} probe: exact match {m['qa_exact_match']:.3f}, multiple choice "
                             f"{m.get('qa_mc_accuracy', float('nan')):.3f}."))
        return not_run(sec, view, ["evaluate"])
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
                                                      + snippet(r.get(k, ""), 80) for k in keys] for r in picked],
                      "Sample answers to the same questions"))
    return sec
