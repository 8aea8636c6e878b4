"""The model × task table: rows, markdown, chart, and the model card that carries it."""

from __future__ import annotations

from pathlib import Path

# the number each local task is judged by (gate, chart, headline), and whether higher is better
PRIMARY = {"qa_mc": ("acc", True), "qa_gen": ("exact_match", True), "heldout_ppl": ("bits_per_byte", False)}


def fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def markdown(rows: list[dict]) -> str:
    """One line per (task, metric), one column per model: value ± stderr."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    keys = list(dict.fromkeys((r["task"], r["metric"]) for r in rows))
    cells = {(r["model"], r["task"], r["metric"]): r for r in rows}
    head = "| task | metric | items (in training) | " + " | ".join(models) + " |"
    lines = [head, "|" + "---|" * (3 + len(models))]
    for task, metric in keys:
        first = next(r for r in rows if r["task"] == task)
        items = f"{first.get('items', '–')} ({first.get('contaminated', 0)})"
        vals = []
        for m in models:
            r = cells.get((m, task, metric))
            vals.append("–" if r is None else fmt(r["value"]) + (f" ± {r['stderr']:.3f}" if r.get("stderr") else ""))
        lines.append(f"| {task} | {metric} | {items} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def chart(rows: list[dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(t, m) for t, (m, _) in PRIMARY.items() if any(r["task"] == t and r["metric"] == m for r in rows)]
    panels += list(dict.fromkeys((r["task"], r["metric"]) for r in rows if r["task"] not in PRIMARY
                                 and r["metric"] in ("acc", "acc_norm", "exact_match")))
    if not panels:
        return
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (task, metric) in zip(axes[0], panels):
        vals = {r["model"]: r for r in rows if r["task"] == task and r["metric"] == metric}
        xs = [m for m in models if m in vals]
        ax.bar(range(len(xs)), [vals[m]["value"] for m in xs], yerr=[vals[m].get("stderr") or 0 for m in xs],
               color=["#4c72b0" if ":" not in m else "#dd8452" for m in xs], capsize=3)
        ax.set_xticks(range(len(xs)), xs, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{task} · {metric}", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def model_card(name: str, source_stage: str, eval_md: str, quant_rows: list[dict]) -> str:
    quant = ["| type | size MB | bits/weight | ppl | Δppl % | top-1 | tok/s (llama.cpp) | × HF |", "|---|---|---|---|---|---|---|---|"]
    for r in quant_rows:
        quant.append(f"| {r['type']} | {r['size_mb']:.2f} | {r['bpw']:.2f} | {r['ppl']:.4f} | {r['ppl_delta_pct']:+.3f} "
                     f"| {r['top1']:.4f} | {r['tok_per_s']:.0f} | {r['speedup']:.1f} |")
    return (f"# {name}\n\nA chat model made from zero by the zerollm pipeline (final stage: `{source_stage}`). "
            "Weights are safetensors; the tokenizer carries a ChatML template; GGUF files sit in `../gguf/` with "
            "an Ollama Modelfile.\n\n## Evaluation (lm-eval, held-out items)\n\n"
            "Models `pretrain`/`sft`/`rlhf` are the HF checkpoints; `gguf:<type>` the llama.cpp files. "
            "\"in training\": items the dedup stage found in training documents (removed there).\n\n"
            f"{eval_md}\n## GGUF files against this checkpoint\n\n" + "\n".join(quant) + "\n")
