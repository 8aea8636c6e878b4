"""How far a GGUF file is from the HF model it came from, measured on held-out text.

- tokenization: llama.cpp's tokenizer (from the GGUF) against the HF tokenizer, chat markers included;
- next-token top-1 agreement and perplexity: the same token ids through both models;
- speed: greedy tokens/s of llama.cpp against HF `generate`, same prompt, same token count.
"""

from __future__ import annotations

import time

import numpy as np


def gguf_tokenize(llm, text: str) -> list[int]:
    """As the HF tokenizer is used here: no BOS added, chat markers read as special tokens."""
    return llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def gguf_logits(llm, ids: list[int]) -> np.ndarray:
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)


def hf_logits(model, ids: list[int]) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]))
    return out.logits[0].float().numpy()


def _nll(logits: np.ndarray, ids: list[int]) -> np.ndarray:
    """Negative log-likelihood of each next token."""
    x = logits[:-1].astype(np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(x).sum(axis=-1))
    return logz - x[np.arange(len(ids) - 1), ids[1:]]


class Reference:
    """The HF model's logits on the held-out docs, computed once for all GGUF files."""

    def __init__(self, model, docs: list[list[int]]):
        self.docs = docs
        self.logits = [hf_logits(model, d) for d in docs]
        nll = np.concatenate([_nll(lg, d) for lg, d in zip(self.logits, docs)])
        self.ppl = float(np.exp(nll.mean()))


def compare(ref: Reference, llm) -> dict[str, float]:
    agree = total = 0
    nll = []
    for d, hf in zip(ref.docs, ref.logits):
        gg = gguf_logits(llm, d)
        agree += int((gg[:-1].argmax(-1) == hf[:-1].argmax(-1)).sum())
        total += len(d) - 1
        nll.append(_nll(gg, d))
    ppl = float(np.exp(np.concatenate(nll).mean()))
    return {"top1": agree / max(total, 1), "ppl": ppl, "ppl_delta_pct": 100 * (ppl - ref.ppl) / ref.ppl}


def tokenization_match(tok, llm, lines: list[str]) -> tuple[float, list[str]]:
    """Fraction of lines both tokenizers split the same way, and the first few that differ."""
    same, bad = 0, []
    for line in lines:
        if tok.encode(line, add_special_tokens=False) == gguf_tokenize(llm, line):
            same += 1
        elif len(bad) < 5:
            bad.append(line[:120])
    return same / max(len(lines), 1), bad


def hf_tokens_per_s(model, prompt: list[int], n: int) -> float:
    import torch

    ids = torch.tensor([prompt])
    with torch.no_grad():
        model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)  # warm-up
        t0 = time.perf_counter()
        model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False)
    return n / (time.perf_counter() - t0)


def gguf_tokens_per_s(llm, prompt: list[int], n: int) -> float:
    """Greedy decoding of exactly `n` tokens (end-of-text does not stop it, as with min_new_tokens)."""
    def run(count: int) -> float:
        llm.reset()
        t0 = time.perf_counter()
        for i, _ in enumerate(llm.generate(prompt, temp=0.0, reset=True)):
            if i + 1 == count:
                break
        return time.perf_counter() - t0

    run(4)  # warm-up
    return n / run(n)
