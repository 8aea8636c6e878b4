"""How the run report shows evaluate: every model on the same questions, and sample answers."""

from __future__ import annotations

from zerollm.report.blocks import Image, Para, Section, Table
from zerollm.report.sections import not_run, snippet


def stage_by_stage(view) -> Table | None:
    """The held-out probe of each model stage, each against the one before on the same questions."""
    rows = []
    for stage in view.registry.model_stages:
        m = view.stage(stage).metrics
        if "qa_exact_match" not in m:
            continue
        if "qa_exact_match_delta" in m:
            change = (f"{m['qa_exact_match_delta']:+.3f} [{m['qa_exact_match_delta_low']:+.3f}, "
                      f"{m['qa_exact_match_delta_high']:+.3f}]")
            flips = f"{m['qa_fixed']:.0f} / {m['qa_broken']:.0f}"
        else:
            change = flips = "—"
        rows.append([stage, m["qa_exact_match"], change, flips, m.get("qa_mc_accuracy")])
    if not rows:
        return None
    return Table(["stage", "exact match (held-out)", "Δ vs the stage before [95 % interval]", "fixed / broken",
                  "multiple choice"], rows, "Stage by stage on the same held-out questions")


def section(view) -> Section:
    sec = Section("taught", "What each stage taught")
    ev = view.stage("evaluate")
    rows = ev.json("eval_table.json") if ev.done else None
    steps = stage_by_stage(view)
    if steps is not None:
        sec.add(Para("Each model stage answers the same held-out questions (facts no post-training row states). "
                     "The change is paired: the same question before and after the stage. A stage taught "
                     "something when its interval lies above zero."))
        sec.add(steps)
    if not rows:
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
