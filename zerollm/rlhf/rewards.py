"""Verifiable rewards and on-policy preference pairs for the embedded world's RL prompts.

An RL prompt carries the gold `answer` of a training fact; the verifier is the probe's own check
(the normalised reply contains the answer), so what RL optimises is what the probe measures, on
facts the probe never asks about.
"""

from __future__ import annotations

from zerollm.probe import contains_answer, has_cjk, normalise


def _text(completion) -> str:
    """GRPO/RLOO pass a conversational completion as [{"role": "assistant", "content": ...}]."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)


def verifier_reward(completions, answer, **kwargs) -> list[float]:
    """1 when the answer states the gold value, else 0."""
    return [float(contains_answer(_text(c), a)) for c, a in zip(completions, answer)]


def repeated_fraction(text: str, n: int = 3) -> float:
    """Share of word (CJK: character) n-grams that already occurred earlier in the text."""
    norm = normalise(text)
    units = list(norm.replace(" ", "")) if has_cjk(norm) else norm.split()
    grams = [tuple(units[i:i + n]) for i in range(len(units) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def make_format_reward(stop_ids: list[int]):
    """+1 for ending the turn (an end token within the length budget), minus the repeated share."""
    stops = set(stop_ids)

    def format_reward(completions, completion_ids=None, **kwargs) -> list[float]:
        out = []
        for c, ids in zip(completions, completion_ids or [[]] * len(completions)):
            ended = bool(ids) and ids[-1] in stops
            out.append(float(ended) - repeated_fraction(_text(c)))
        return out

    return format_reward


def sample_answers(model, tok, prompts: list[list[dict]], samples: int, temperature: float, max_new_tokens: int,
                   stop_ids: list[int], batch_size: int = 16, seed: int = 0) -> list[list[tuple[str, bool]]]:
    """`samples` sampled replies per chat prompt, each with whether it ended its turn."""
    import torch

    torch.manual_seed(seed)
    side = tok.padding_side
    tok.padding_side = "left"
    dev = next(model.parameters()).device
    stops = torch.tensor(stop_ids, device=dev)
    out: list[list[tuple[str, bool]]] = []
    model.eval()
    try:
        for b in range(0, len(prompts), batch_size):
            texts = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                     for p in prompts[b:b + batch_size]]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(dev)
            with torch.no_grad():
                gen = model.generate(**enc, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                                     num_return_sequences=samples, max_new_tokens=max_new_tokens,
                                     eos_token_id=stop_ids, pad_token_id=tok.pad_token_id)
            new = gen[:, enc["input_ids"].shape[1]:]
            ended = torch.isin(new, stops).any(dim=1).tolist()
            decoded = tok.batch_decode(new, skip_special_tokens=True)
            for i in range(len(texts)):
                span = range(i * samples, (i + 1) * samples)
                out.append([(decoded[k].strip(), bool(ended[k])) for k in span])
    finally:
        tok.padding_side = side
    return out


def onpolicy_pairs(rows: list[dict], replies: list[list[tuple[str, bool]]],
                   per_prompt: int = 1) -> tuple[list[dict], dict[str, float]]:
    """Pair right sampled answers with wrong ones of the same prompt, up to `per_prompt` pairs, each
    answer used once (prompts all right or all wrong teach nothing by comparison and are skipped).
    A chosen answer must have ended its turn: the chat template closes it with <|im_end|>, which
    would teach stopping mid-sentence. Several distinct wrong answers per prompt show the policy
    more of the ways it goes wrong (another person's fact, another attribute) for the same cost of
    sampling."""
    pairs, n_right, n_all = [], 0, 0
    for row, answers in zip(rows, replies):
        right = [(a, end) for a, end in answers if a and contains_answer(a, row["answer"])]
        ok = list(dict.fromkeys(a for a, end in right if end))
        bad = list(dict.fromkeys(a for a, _ in answers if not (a and contains_answer(a, row["answer"]))))
        n_right += len(right)
        n_all += len(answers)
        for chosen, rejected in list(zip(ok, bad))[:per_prompt]:
            pairs.append({"prompt": row["prompt"], "chosen": [{"role": "assistant", "content": chosen}],
                          "rejected": [{"role": "assistant", "content": rejected}]})
    stats = {"onpolicy_prompts": float(len(rows)), "onpolicy_pairs": float(len(pairs)),
             "onpolicy_sample_accuracy": n_right / n_all if n_all else 0.0}
    return pairs, stats
