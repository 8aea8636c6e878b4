"""An lm-eval model that runs a GGUF file in-process through llama-cpp-python.

lm-eval's own `gguf` model talks HTTP to a llama.cpp server that must echo prompt logprobs, and it
has no `loglikelihood_rolling`, so perplexity could not be compared with the HF checkpoints. This
class drives llama.cpp directly and follows the HF backend's conventions, so that one task suite
scores both the same way: no BOS added, the end-of-text token as the prefix of an empty context,
left truncation to the model's context, disjoint rolling windows for perplexity, greedy
generation cut at the task's stop strings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from lm_eval import utils
from lm_eval.api.model import TemplateLM

from zerollm import llamacpp


def _logsoftmax(row: np.ndarray) -> np.ndarray:
    x = row.astype(np.float64)
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


class LlamaCppLM(TemplateLM):
    def __init__(self, path: Path, n_ctx: int = 0, threads: int = 0):
        super().__init__()
        self.path = Path(path)
        self.llm = llamacpp.open_model(self.path, n_ctx=n_ctx, threads=threads, logits_all=True)
        self.max_length = llamacpp.context_length(self.llm)
        self._eot = self.llm.token_eos()
        self._prefix: list[int] = []  # tokens in the KV cache, reused by the next request that shares them

    @property
    def eot_token_id(self) -> int:
        return self._eot

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs) -> list[int]:
        return self.llm.tokenize(string.encode("utf-8"), add_bos=bool(add_special_tokens), special=True)

    def _is_eog(self, token: int) -> bool:
        return bool(llamacpp.runtime().llama_vocab_is_eog(self.llm._model.vocab, token))

    def tok_decode(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens, special=False).decode("utf-8", errors="replace")

    def _logits(self, tokens: list[int]) -> np.ndarray:
        """Logits at every position of `tokens`, re-using the cached prefix (multiple-choice
        candidates share their question)."""
        keep = 0
        for a, b in zip(self._prefix, tokens[:-1]):  # at least the last token is evaluated again
            if a != b:
                break
            keep += 1
        self.llm.n_tokens = keep
        self.llm.eval(tokens[keep:])
        self._prefix = list(tokens)
        return self.llm.scores[: len(tokens)]

    def _score(self, context: list[int], continuation: list[int]) -> tuple[float, bool]:
        whole = (context + continuation)[-(self.max_length + 1):][:-1]
        logits = self._logits(whole)
        n = len(continuation)
        rows = logits[len(whole) - n:]
        logp, greedy = 0.0, True
        for row, target in zip(rows, continuation):
            lp = _logsoftmax(row)
            logp += float(lp[target])
            greedy = greedy and int(row.argmax()) == target
        return logp, greedy

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, **kwargs):
        return [self._score(ctx, cont) for _, ctx, cont in requests]

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        out = []
        for (string,) in [r.args for r in requests]:
            windows = map(utils.make_disjoint_window, utils.get_rolling_token_windows(
                token_list=self.tok_encode(string), prefix_token=self.prefix_token_id,
                max_seq_len=self.max_length, context_len=1))
            out.append(sum(self._score(ctx, cont)[0] for ctx, cont in windows))
        return out

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        out = []
        for context, gen_kwargs in [r.args for r in requests]:
            kw = dict(gen_kwargs or {})
            until = kw.get("until") or []
            until = [until] if isinstance(until, str) else list(until)
            max_new = int(kw.get("max_gen_toks", 256))
            prompt = self.tok_encode(context)[-max(self.max_length - max_new, 1):]
            # stop strings that are one token (chat markers) are matched as ids: decoding drops them
            stop_ids = {ids[0] for ids in map(self.tok_encode, until) if len(ids) == 1}
            self._prefix = []
            new: list[int] = []
            text = ""
            for token in self.llm.generate(prompt, temp=0.0, reset=True):
                if token in stop_ids or self._is_eog(token):
                    break
                new.append(token)
                text = self.tok_decode(new)
                if len(new) >= max_new or len(prompt) + len(new) >= self.max_length or any(u in text for u in until):
                    break
            for u in until:
                text = text.split(u)[0]
            out.append(text)
        return out
