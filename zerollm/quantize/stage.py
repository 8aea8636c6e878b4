"""quantize stage: GGUF with llama.cpp's own converter and quantizer, each file checked against its
source on held-out text, plus an Ollama Modelfile.

F16 (or BF16) comes from `convert_hf_to_gguf.py` of the installed llama-cpp-python's sdist; the quant
types from `llama_model_quantize`. Every file is loaded in llama.cpp and measured: tokenization
against the HF tokenizer, next-token top-1 agreement and perplexity against the HF model, and
greedy tokens/s against HF `generate`, all in this run on this machine.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from zerollm import llamacpp
from zerollm.heldout import val_texts, val_token_docs
from zerollm.probe import END_OF_TURN, load_items, load_model
from zerollm.quantize import converter, modelfile, parity
from zerollm.quantize.config import QuantizeConfig
from zerollm.stage import MODEL_STAGES, Stage, StageContext, StageResult

Config = QuantizeConfig
TABLE = "quant_table.json"


class QuantizeError(ValueError):
    pass


def tensor_types(path: Path) -> dict[str, int]:
    from gguf import GGUFReader

    counts: dict[str, int] = {}
    for t in GGUFReader(str(path)).tensors:
        counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
    return counts


def fingerprint(cfg: QuantizeConfig, ctx: StageContext) -> str:
    """The converter and quantizer are llama-cpp-python's: a new version makes new files."""
    return f"llama_cpp_python={converter.installed_version()}"


def check(cfg: QuantizeConfig, pipeline, ctx: StageContext) -> list[str]:
    """The model stage to export must be part of this run."""
    source = cfg.source_stage(ctx.model_stages) if ctx.model_stages else None
    if source is None:
        return ["quantize.model: no model stage before quantize; allowed: a pipeline with one"]
    if ctx.selected and source not in ctx.selected:
        return [f"quantize.model: {source!r} is not selected in this run; allowed: "
                f"{', '.join(m for m in ctx.model_stages if m in ctx.selected) or 'none'}"]
    return []


def run(cfg: QuantizeConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    import torch

    source = cfg.source_stage(ctx.model_stages)
    model_dir = inputs[source] / "model"
    threads = llamacpp.cpu_threads(cfg.threads)
    torch.set_num_threads(threads)
    gguf_dir = out_dir / "gguf"
    gguf_dir.mkdir(parents=True)
    base = cfg.outtype.upper()
    files = {base: f"gguf/model-{base}.gguf"}

    t0 = time.time()
    converter.convert(model_dir, out_dir / files[base], cfg.outtype, ctx.log)
    convert_s = time.time() - t0
    fallbacks: dict[str, int] = {}
    for qtype in cfg.all_types():
        files[qtype] = f"gguf/model-{qtype}.gguf"
        report = llamacpp.quantize(out_dir / files[base], out_dir / files[qtype], qtype, threads)
        m = re.search(r"(\d+) of (\d+) tensor\(s\) required fallback", report)
        fallbacks[qtype] = int(m.group(1)) if m else 0
        if fallbacks[qtype]:
            ctx.log.warning("quantize: %s: %s tensors fell back to another type (row length not a multiple "
                            "of the type's block; widths that are multiples of 256 avoid it)", qtype, fallbacks[qtype])
    quant_s = time.time() - t0 - convert_s

    model, tok = load_model(model_dir)
    model.eval()
    n_ctx = int(model.config.max_position_embeddings)
    docs = val_token_docs(inputs["tokenizer"], cfg.parity_docs, n_ctx)
    if not docs:
        raise QuantizeError("quantize: the tokenizer stage kept no validation documents to compare on")
    ref = parity.Reference(model, docs)
    lines = [ln for t in val_texts(inputs["tokenizer"], tok, cfg.parity_docs) for ln in t.splitlines() if ln.strip()]
    lines += [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
              for q in [it["question"] for it in load_items(inputs["collect"], 10)]]
    prompt = docs[0][: min(32, n_ctx // 4)]
    n_new = min(cfg.speed_tokens, n_ctx - len(prompt) - 1)
    hf_tps = parity.hf_tokens_per_s(model, prompt, n_new)
    n_params = sum(p.numel() for p in model.parameters())

    rows, metrics = [], {"hf_ppl": ref.ppl, "hf_tok_per_s": hf_tps, "convert_seconds": convert_s,
                         "quantize_seconds": quant_s, "parity_tokens": float(sum(len(d) - 1 for d in docs))}
    for qtype, rel in files.items():
        path = out_dir / rel
        llm = llamacpp.open_model(path, n_ctx=n_ctx, threads=threads, logits_all=True)
        try:
            cmp = parity.compare(ref, llm)
            match, bad = parity.tokenization_match(tok, llm, lines)
        finally:
            llm.close()
        fast = llamacpp.open_model(path, n_ctx=n_ctx, threads=threads)
        try:
            tps = parity.gguf_tokens_per_s(fast, prompt, n_new)
        finally:
            fast.close()
        size = path.stat().st_size
        row = {"type": qtype, "file": rel, "size_mb": size / 1e6, "bpw": 8 * size / n_params, **cmp,
               "tok_per_s": tps, "speedup": tps / hf_tps, "tokenize_match": match,
               "fallback_tensors": fallbacks.get(qtype, 0), "tensor_types": tensor_types(path)}
        rows.append(row)
        if bad:
            ctx.log.warning("quantize: %s tokenizes %d%% of held-out lines like the HF tokenizer; e.g. %r",
                            qtype, round(100 * match), bad[0])
        k = qtype.lower()
        metrics.update({f"{k}_top1": cmp["top1"], f"{k}_ppl": cmp["ppl"], f"{k}_ppl_delta_pct": cmp["ppl_delta_pct"],
                        f"{k}_tok_per_s": tps, f"{k}_speedup": tps / hf_tps, f"{k}_size_mb": size / 1e6,
                        f"{k}_tokenize_match": match})
        ctx.log.info("quantize: %-7s %6.2f MB  %.2f bpw  ppl %.4f (%+.3f%%)  top-1 %.4f  %.0f tok/s (%.1fx HF)",
                     qtype, size / 1e6, row["bpw"], cmp["ppl"], cmp["ppl_delta_pct"], cmp["top1"], tps, tps / hf_tps)

    serve_file = files[base] if cfg.serve_type == "F16" else files[cfg.serve_type]
    artifacts = ["quant_table.md"]
    try:
        shape = modelfile.read_shape(tok, stops=[END_OF_TURN, "<|im_start|>"])
        (gguf_dir / "Modelfile").write_text(
            modelfile.modelfile(Path(serve_file).name, shape, {"num_ctx": n_ctx}), encoding="utf-8")
        artifacts.append("gguf/Modelfile")
    except (modelfile.TemplateNotPortable, ValueError) as exc:
        ctx.log.warning("quantize: no Modelfile: %s", exc)
    _write_table(out_dir, rows, hf_tps, ref.ppl)
    return StageResult(metrics=metrics, artifacts=artifacts,
                       summary={"source": source, "source_dir": inputs[source].relative_to(ctx.workdir).as_posix(),
                                "files": files, "serve_type": cfg.serve_type, "serve_file": serve_file, "n_ctx": n_ctx,
                                "sdist_sha256": converter.sha256(converter.sdist_path()), "table": rows},
                       tables={"quant_table.json": rows})


def _write_table(out_dir: Path, rows: list[dict], hf_tps: float, hf_ppl: float) -> None:
    import json

    (out_dir / "quant_table.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    lines = [f"HF reference: ppl {hf_ppl:.4f}, {hf_tps:.0f} tok/s (HF generate, same machine, same run)", "",
             "| type | size MB | bits/weight | ppl | Δppl % | top-1 | tok/s | × HF | tokenization | tensor types |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        types = ", ".join(f"{k}×{v}" for k, v in sorted(r["tensor_types"].items()))
        lines.append(f"| {r['type']} | {r['size_mb']:.2f} | {r['bpw']:.2f} | {r['ppl']:.4f} | {r['ppl_delta_pct']:+.3f} "
                     f"| {r['top1']:.4f} | {r['tok_per_s']:.0f} | {r['speedup']:.1f} | {r['tokenize_match']:.3f} "
                     f"| {types} |")
    (out_dir / "quant_table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


STAGE = Stage(
    name="quantize", config=QuantizeConfig, run=run, fingerprint=fingerprint, check=check, table=TABLE,
    inputs=("tokenizer", "collect", MODEL_STAGES),
    reads="quantize.model's stage (default: the last model stage): model/; tokenizer: validation docs; collect: "
          "eval questions",
    writes="gguf/model-{F16,Q8_0,Q4_K_M,...}.gguf + Modelfile, quant_table (size, bits/weight, ppl, top-1, tok/s)",
    view="zerollm.quantize.view",
)
