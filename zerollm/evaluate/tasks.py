"""The offline task suite, as lm-eval task configs over files this stage writes.

- `qa_mc`: multiple-choice fact recall by log-likelihood after "Question: …\\nAnswer:" (a base
  model scores too; the stages' probe frame, `zerollm.probe.mc_prompt`, so a Chinese question is
  followed directly by its candidates);
- `qa_gen`: the question in the model's chat template, a greedy answer, exact match = the gold
  answer in the reply's opening (the probe's rule, `zerollm.probe.contains_answer`);
- `heldout_ppl`: perplexity and bits per byte (`loglikelihood_rolling`) on validation documents.

All three use held-out items only (facts no post-training row states). Configs are passed to lm-eval
as dicts, and written to `tasks.json` for the record.
"""

from __future__ import annotations

from pathlib import Path

from zerollm.heldout import val_texts
from zerollm.io.shards import read_jsonl, write_jsonl
from zerollm.probe import END_OF_TURN, contains_answer, mc_continuation, mc_prompt

PREFIX = "zerollm_"


def qa_gen_results(doc: dict, results: list[str]) -> dict[str, float]:
    return {"exact_match": float(contains_answer(results[0], doc["answer"]))}


def held_out_items(collect_dir: Path, limit: int) -> list[dict]:
    path = Path(collect_dir) / "datasets" / "eval.jsonl"
    items = read_jsonl(path) if path.is_file() else []
    return [it for it in items if not it.get("seen")][:limit]


def chat_prompt(tok, question: str) -> str:
    return tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                   add_generation_prompt=True)


def mc_rows(items: list[dict]) -> list[dict]:
    """qa_mc's rows. The probe's frame depends on the question's script, so each row carries its own
    context and continuations (lm-eval joins them with no delimiter) instead of one task template."""
    return [{"id": it["id"], "question": it["question"], "choices": it["choices"],
             "context": mc_prompt(it["question"]),
             "continuations": [mc_continuation(it["question"], c) for c in it["choices"]],
             "gold": it["choices"].index(it["answer"])}
            for it in items if len(it.get("choices") or []) >= 2 and it["answer"] in it["choices"]]


def _task(name: str, data: Path, **kw) -> dict:
    return {"task": PREFIX + name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
            "test_split": "test", "metadata": {"version": 1}, **kw}


def build(collect_dir: Path, tokenizer_dir: Path, tok, data_dir: Path, max_items: int, ppl_docs: int,
          max_new_tokens: int) -> tuple[list[dict], dict[str, list[dict]]]:
    """(lm-eval task configs, the items of each task by short name)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    items = held_out_items(collect_dir, max_items)
    mc = mc_rows(items)
    gen = [{"id": it["id"], "question": it["question"], "prompt": chat_prompt(tok, it["question"]),
            "answer": it["answer"]} for it in items]
    texts = [{"id": f"val-{i}", "text": t} for i, t in enumerate(val_texts(tokenizer_dir, tok, ppl_docs))]
    configs, by_task = [], {}
    if mc:
        write_jsonl(data_dir / "qa_mc.jsonl", mc)
        configs.append(_task(
            "qa_mc", data_dir / "qa_mc.jsonl", output_type="multiple_choice",
            doc_to_text="{{context}}", doc_to_choice="{{continuations}}", doc_to_target="{{gold}}",
            target_delimiter="", metric_list=[{"metric": "acc", "aggregation": "mean", "higher_is_better": True}]))
        by_task["qa_mc"] = mc
    if gen:
        write_jsonl(data_dir / "qa_gen.jsonl", gen)
        configs.append(_task(
            "qa_gen", data_dir / "qa_gen.jsonl", output_type="generate_until", doc_to_text="{{prompt}}",
            doc_to_target="{{answer}}", target_delimiter="",
            generation_kwargs={"until": [END_OF_TURN], "max_gen_toks": max_new_tokens, "do_sample": False},
            process_results=qa_gen_results,
            metric_list=[{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}]))
        by_task["qa_gen"] = gen
    if texts:
        write_jsonl(data_dir / "heldout_text.jsonl", texts)
        configs.append(_task(
            "heldout_ppl", data_dir / "heldout_text.jsonl", output_type="loglikelihood_rolling",
            doc_to_text="", doc_to_target="{{text}}",
            metric_list=[{"metric": m} for m in ("word_perplexity", "byte_perplexity", "bits_per_byte")]))
        by_task["heldout_ppl"] = texts
    return configs, by_task
