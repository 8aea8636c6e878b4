"""The held-out fact probe that every model stage (pretrain, sft, rlhf) runs the same way.

Two numbers per stage, on the eval set's held-out items (facts no SFT, preference or RL row states,
so a right answer there is knowledge from pretraining):

- `qa_mc_accuracy`: multiple choice by log-likelihood of each candidate after a plain "Question: ...
  Answer:" prompt, the same for every stage, so a change between stages is a change in what the model
  knows rather than in how well a prompt suits it. Chat models (sft, rlhf) also get
  `qa_mc_accuracy_chat`: the candidate as the first words of their answer in the chat template. That
  form measures the format as much as the fact: a chat model that answers in a sentence with the value
  last ("Good question. Nora Quinn lives in Claycliff.") finds a bare value first unlikely, whichever
  it is. Measured on the Muon tiny recipe: base 0.89 plain; sft 0.88 plain, 0.81 chat (0.77 chat
  after 4 epochs instead of 8, 0.895 plain): no forgetting, a scoring artifact. On the older AdamW
  recipe the two forms leaned the other way (sft 0.80 plain, 0.84 chat). `qa_mc_chance` is the mean
  of 1/k beside them.
- `qa_exact_match`: the greedy answer to the question in the chat template contains the gold
  answer (normalised). This needs both the fact and the chat format, so it shows what SFT and RL add.

Items about facts a training row states (`seen`: an SFT chat, preference pair or RL prompt) are
scored apart (`*_seen`): they show memorised post-training answers, not knowledge from pretraining. The answers are written to `probe.jsonl`, one column per stage so far, so the rlhf
stage's table shows a question's answer after pretrain, sft and rlhf side by side.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from pydantic import Field

from zerollm.config import StrictModel
from zerollm.io.shards import read_jsonl

TABLE = "probe.jsonl"
END_OF_TURN = "<|im_end|>"


class ProbeConfig(StrictModel):
    enabled: bool = Field(True, description="Score the stage's model on the eval set's held-out facts.")
    max_items: int = Field(300, ge=1, description="Eval items scored at most, held-out and seen each.")
    max_new_tokens: int = Field(40, ge=1, description="Tokens generated per greedy answer.")
    batch_size: int = Field(64, ge=1, description="Questions per forward/generate batch.",
                        json_schema_extra={"cache_key": False})


def load_items(collect_dir: Path, limit: int) -> list[dict]:
    path = Path(collect_dir) / "datasets" / "eval.jsonl"
    if not path.is_file():
        return []
    items = read_jsonl(path)
    held = [it for it in items if not it.get("seen")][:limit]
    seen = [it for it in items if it.get("seen")][:limit]
    return held + seen


_CJK_CHARS = "\u3400-\u9fff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
# a word edge for a non-Chinese answer: no word character there, except that a CJK character ends a word
_EDGE = f"[^\\W{_CJK_CHARS}]"


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def mc_prompt(question: str) -> str:
    """The same plain prompt for every stage (base models have never seen the chat markers), framed in
    the question's own script. An English frame is byte pieces to a tokenizer trained on Chinese alone,
    which the model never read: on the Chinese recipe it scored 0.32 against 0.78 for the question
    followed directly by its answer, the cloze form (docs/benchmarks.md, issue 26)."""
    return question if has_cjk(question) else f"Question: {question}\nAnswer:"


def mc_continuation(question: str, choice: str) -> str:
    """A candidate as the answer's first word: after a space in spaced scripts (sentencepiece's
    word-initial piece), directly after the question in Chinese, which has no spaces."""
    return choice if has_cjk(question) else " " + choice


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s]", " ", text)  # punctuation (ASCII and CJK) to spaces
    return " ".join(text.split())


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*|\n+")


def first_sentences(reply: str, n: int = 2) -> str:
    """The opening of a reply. A base model that rambles on about the subject states many facts
    about it; only an answer that opens with the asked-for fact counts (two sentences leave room
    for a lead-in such as "Sure.")."""
    parts = [p for p in _SENTENCE_END.split(reply.strip()) if p.strip()]
    return " ".join(parts[:n])


def contains_answer(reply: str, gold: str) -> bool:
    """Gold inside the reply's opening as whole words ("34" is not in "134"); CJK has no word
    breaks, so Chinese answers match as substrings with spaces removed, and a number or Latin word
    next to a Chinese character ("65岁", "1981年") is whole."""
    r, g = normalise(first_sentences(reply)), normalise(gold)
    if not g:
        return False
    if has_cjk(g):
        return g.replace(" ", "") in r.replace(" ", "")
    # "65岁" holds 65; "134" still does not hold 34
    return re.search(rf"(?<!{_EDGE}){re.escape(g)}(?!{_EDGE})", r) is not None


def _device(model):
    return next(model.parameters()).device


def chat_mc_prompt(tok, question: str) -> str:
    """The question as a chat model is asked it; the candidate follows as the start of its answer."""
    return tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                   add_generation_prompt=True)


def mc_scores(model, tok, items: list[dict], batch_size: int, chat: bool = False) -> list[int]:
    """Index of the highest total log-likelihood choice, per item (`chat`: in the chat template)."""
    import torch

    rows = []  # (item index, choice index, context ids, continuation ids)
    for i, it in enumerate(items):
        prompt = chat_mc_prompt(tok, it["question"]) if chat else mc_prompt(it["question"])
        ctx = tok.encode(prompt, add_special_tokens=False)
        for j, ch in enumerate(it["choices"]):
            rows.append((i, j, ctx, tok.encode(mc_continuation(it["question"], ch), add_special_tokens=False)))
    scores: dict[int, list[float]] = {i: [float("-inf")] * len(it["choices"]) for i, it in enumerate(items)}
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    dev = _device(model)
    for b in range(0, len(rows), batch_size):
        chunk = rows[b:b + batch_size]
        seqs = [c + k for _, _, c, k in chunk]
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, s in enumerate(seqs):
            ids[r, :len(s)] = torch.tensor(s)
            mask[r, :len(s)] = 1
        with torch.no_grad():
            logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        for r, (i, j, c, k) in enumerate(chunk):
            pos = torch.arange(len(c) - 1, len(c) + len(k) - 1)
            tgt = torch.tensor(k)
            scores[i][j] = logp[r, pos, tgt.to(logp.device)].sum().item()
    return [max(range(len(s)), key=s.__getitem__) for _, s in sorted(scores.items())]


def greedy_answers(model, tok, questions: list[str], max_new_tokens: int, batch_size: int) -> list[str]:
    """Greedy chat replies, batched with left padding, stopped at the end-of-turn token."""
    import torch

    stop = stop_token_ids(tok)
    side = tok.padding_side
    tok.padding_side = "left"
    out = []
    try:
        for b in range(0, len(questions), batch_size):
            texts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                             add_generation_prompt=True) for q in questions[b:b + batch_size]]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(_device(model))
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop,
                                     pad_token_id=tok.pad_token_id)
            out.extend(tok.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True))
    finally:
        tok.padding_side = side
    return [o.strip() for o in out]


def run_probe(model, tok, collect_dir: Path, cfg: ProbeConfig, stage: str, out_dir: Path,
              upstream: Path | None = None) -> dict[str, float]:
    """Score `model`, write `out_dir/probe.jsonl` (with upstream stages' answers), return the metrics."""
    if not cfg.enabled:
        return {}
    items = load_items(collect_dir, cfg.max_items)
    if not items:
        return {}
    was_training = model.training
    model.eval()
    try:
        replies = greedy_answers(model, tok, [it["question"] for it in items], cfg.max_new_tokens, cfg.batch_size)
        mc_items = [it for it in items if len(it.get("choices") or []) >= 2]
        ids = [it["id"] for it in mc_items]
        picks = dict(zip(ids, mc_scores(model, tok, mc_items, cfg.batch_size)))
        chat_picks = {}
        if stage != "pretrain":  # a post-training stage's model is a chat model
            chat_picks = dict(zip(ids, mc_scores(model, tok, mc_items, cfg.batch_size, chat=True)))
    finally:
        model.train(was_training)

    prev = {}
    if upstream is not None and (upstream / TABLE).is_file():
        prev = {r["id"]: r for r in map(json.loads, (upstream / TABLE).read_text(encoding="utf-8").splitlines())}
    table = []
    for it, reply in zip(items, replies):
        row = {k: v for k, v in prev.get(it["id"], {}).items()}
        row.update(id=it["id"], question=it["question"], gold=it["answer"], seen=bool(it.get("seen")))
        row[f"answer_{stage}"] = reply
        row[f"correct_{stage}"] = contains_answer(reply, it["answer"])
        if it["id"] in picks:
            row[f"mc_{stage}"] = it["choices"][picks[it["id"]]]
        if it["id"] in chat_picks:
            row[f"mc_chat_{stage}"] = it["choices"][chat_picks[it["id"]]]
        table.append(row)
    with open(out_dir / TABLE, "w", encoding="utf-8") as f:
        for row in table:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    metrics: dict[str, float] = {}
    before = previous_stage(prev, stage)
    if before is not None:
        metrics.update(paired([row for row in table if not row["seen"]], before, stage))
    for suffix, seen in (("", False), ("_seen", True)):
        group = [(it, row) for it, row in zip(items, table) if bool(it.get("seen")) == seen]
        if not group:
            continue
        metrics[f"qa_exact_match{suffix}"] = sum(row[f"correct_{stage}"] for _, row in group) / len(group)
        mc = [(it, row) for it, row in group if it["id"] in picks]
        if mc:
            metrics[f"qa_mc_accuracy{suffix}"] = sum(row[f"mc_{stage}"] == it["answer"] for it, row in mc) / len(mc)
            metrics[f"qa_mc_chance{suffix}"] = sum(1 / len(it["choices"]) for it, _ in mc) / len(mc)
            if chat_picks:
                metrics[f"qa_mc_accuracy_chat{suffix}"] = sum(row[f"mc_chat_{stage}"] == it["answer"]
                                                              for it, row in mc) / len(mc)
        metrics[f"qa_items{suffix}"] = float(len(group))
    return metrics


def previous_stage(upstream_rows: dict[str, dict], stage: str) -> str | None:
    """The stage whose answers the upstream table added last (the one just before `stage`)."""
    for row in upstream_rows.values():
        cols = [k.removeprefix("correct_") for k in row if k.startswith("correct_") and k != f"correct_{stage}"]
        return cols[-1] if cols else None
    return None


def paired(rows: list[dict], before: str, after: str) -> dict[str, float]:
    """Exact match of `after` against `before` on the same held-out items: the mean change with its 95 %
    interval (normal approximation of the paired differences), and the answers fixed and broken. Only a
    paired interval that lies above zero says the stage taught something; two separate scores can't."""
    pairs = [(bool(r[f"correct_{before}"]), bool(r[f"correct_{after}"])) for r in rows
             if f"correct_{before}" in r and f"correct_{after}" in r]
    n = len(pairs)
    if n < 2:
        return {}
    diffs = [int(a) - int(b) for b, a in pairs]
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    half = 1.96 * (var / n) ** 0.5
    return {"qa_exact_match_delta": mean, "qa_exact_match_delta_low": mean - half,
            "qa_exact_match_delta_high": mean + half, "qa_fixed": float(sum(1 for b, a in pairs if a and not b)),
            "qa_broken": float(sum(1 for b, a in pairs if b and not a)), "qa_paired_items": float(n)}


def probe_checkpoint(model_dir: Path, collect_dir: Path, cfg: ProbeConfig, stage: str, out_dir: Path, log,
                     cuda: bool = False, upstream: Path | None = None) -> dict[str, float]:
    """The probe on a stage's saved output, loaded as a user would load it."""
    if not cfg.enabled:
        return {}
    model, tok = load_model(model_dir)
    if cuda:
        model = model.cuda()
    metrics = run_probe(model, tok, collect_dir, cfg, stage, out_dir, upstream=upstream)
    log.info("%s probe: %s", stage, ", ".join(f"{k}={v:.3g}" for k, v in metrics.items()))
    return metrics


def load_model(model_dir: Path, cls=None, **kw):
    """A model stage's checkpoint, safetensors only, no remote code."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cls = cls or AutoModelForCausalLM
    tok = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    model = cls.from_pretrained(model_dir, trust_remote_code=False, use_safetensors=True, **kw)
    return model, tok


def stop_token_ids(tok) -> list[int]:
    """End of an assistant turn, and end of text; a tokenizer without ChatML has only the latter."""
    ids = [tok.convert_tokens_to_ids(END_OF_TURN), tok.eos_token_id]
    return [i for i in dict.fromkeys(ids) if i is not None and i >= 0 and i != tok.unk_token_id]
