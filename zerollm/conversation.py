"""Keeping a conversation inside a model's context: the one rule `zerollm chat`, the chat page (through
`/chat/fit`) and nothing else use, so a terminal and a browser drop the same turns.

System messages always stay. Whole turns (a user message and the replies after it) go oldest first
until the prompt leaves `reserve` tokens for the answer. The newest user turn is never dropped: when it
alone is too long, the caller says so (the server answers 400 `context_length_exceeded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

Message = dict


@dataclass(frozen=True)
class Fit:
    messages: list[Message]  # what to send: the system messages, then the kept turns
    dropped: int  # messages left out (oldest first)
    prompt_tokens: int  # of `messages`, as the model's chat template and tokenizer count them
    budget: int  # the most prompt tokens that still leave `reserve` for the answer

    @property
    def fits(self) -> bool:
        return self.prompt_tokens <= self.budget


def _turn_starts(rest: Sequence[Message]) -> list[int]:
    """Where each turn begins: at every user message (and at 0, whatever the first message is)."""
    starts = [i for i, m in enumerate(rest) if m.get("role") == "user"]
    return starts if starts and starts[0] == 0 else [0, *starts]


def fit(messages: Sequence[Message], count: Callable[[list[Message]], int], n_ctx: int, reserve: int) -> Fit:
    """The longest tail of whole turns (after the system messages) whose prompt fits n_ctx - reserve.
    `count` gives a message list's prompt tokens."""
    system = [m for m in messages if m.get("role") == "system"]
    rest = [m for m in messages if m.get("role") != "system"]
    budget = max(1, n_ctx - max(0, reserve))
    starts = _turn_starts(rest) if rest else [0]
    for cut in starts:  # oldest first: the first cut that fits keeps the most
        kept = system + rest[cut:]
        tokens = count(kept)
        if tokens <= budget or cut == starts[-1]:
            return Fit(kept, cut, tokens, budget)
    raise AssertionError("unreachable: the last cut always returns")


class ChatTemplate:
    """A GGUF's own chat template, as llama-cpp-python applies it, to count a conversation's prompt
    tokens before it is sent (the same formatter and tokenizer call as its chat handler)."""

    def __init__(self, llm):
        from llama_cpp import llama_chat_format

        self.llm = llm
        template = llm.metadata.get("tokenizer.chat_template")
        text = llm._model.token_get_text  # noqa: SLF001  (how Llama itself names bos/eos for templates)
        eos, bos = llm.token_eos(), llm.token_bos()
        self.formatter = llama_chat_format.Jinja2ChatFormatter(
            template, eos_token=text(eos) if eos != -1 else "", bos_token=text(bos) if bos != -1 else "",
        ) if template else None

    def count(self, messages: list[Message]) -> int:
        """Prompt tokens; ValueError when the template refuses the messages."""
        if self.formatter is None:  # no template in the file: llama-cpp-python's fallback format, estimated
            return sum(self.tokens(m["content"]) + 8 for m in messages) + 8
        try:
            out = self.formatter(messages=messages)
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001  (jinja errors: the template cannot render these messages)
            raise ValueError(str(exc)) from exc
        return len(self.llm.tokenize(out.prompt.encode("utf-8"), add_bos=not out.added_special, special=True))

    def tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
