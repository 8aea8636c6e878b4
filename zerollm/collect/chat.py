"""Chat and task dataset rows: every accepted row format normalised to one schema per dataset.

Public datasets spell the same thing many ways (OpenAI-style `messages`, Alpaca's instruction/output,
ShareGPT's from/value turns, TRL's prompt/completion and implicit-prompt preference pairs). The
stages after collect read exactly one shape per dataset, so every variant is turned into it here,
and a row that can't be is a Reject with a reason, never an exception.

Schemas written (plus `id`, `source`, and `facts` when the row has them):
  sft         {"messages": [{"role", "content"}, ...]}   optional system turn, then user/assistant
                                                          alternating from user, ending with assistant
  preference  {"prompt": [... ending with user], "chosen": [assistant ...], "rejected": [assistant ...]}
  eval        {"question", "answer", "choices"?: [str, ...] holding the answer, "fact"?, "category"?}
  prompts     {"prompt": [... ending with user], "answer"?: str}   (RL prompts, answer verifiable)

Each normaliser is `(row, fmt, where) -> dict | Reject`; fmt "auto" detects the format per row
from its keys, so one file may mix formats.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any, Callable

from zerollm.collect.config import DATASET_FORMATS
from zerollm.collect.sources import Reject

ROLES = {"system": "system", "user": "user", "assistant": "assistant"}
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user",
                  "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bot": "assistant"}
TEXT_KEYS = ("messages", "prompt", "chosen", "rejected", "question", "answer", "choices")  # what max_row_chars counts


class _Bad(Exception):
    """Raised inside a normaliser, turned into a Reject at its boundary (keeps the helpers flat)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _show(value: Any, n: int = 200) -> str:
    """A reject sample that can always be written as UTF-8 (lone surrogates become '?')."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:n].encode("utf-8", "replace").decode("utf-8")


def _normaliser(fn: Callable[[dict, str], dict]) -> Callable[[Any, str, str], dict | Reject]:
    @wraps(fn)
    def normalise_row(row: Any, fmt: str, where: str) -> dict | Reject:
        if not isinstance(row, dict):
            return Reject("not_an_object", where, _show(row))
        try:
            return {**_extras(row), **fn(row, fmt)}
        except _Bad as bad:
            return Reject(bad.reason, where, f"{bad.detail}: {_show(row)}")
    return normalise_row


def _extras(row: dict) -> dict:
    """`id` and `facts` kept from the row: stable ids for lineage, facts for eval's `seen` flag."""
    out: dict = {}
    rid = row.get("id")
    if isinstance(rid, float) and rid.is_integer():  # pandas-written parquet turns int ids into floats
        rid = int(rid)
    if isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid).strip():
        out["id"] = str(rid)  # other id types: the derived id (file and line) stands in
    facts = row.get("facts")
    if facts is not None:
        if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
            raise _Bad("bad_type", "facts is not a list of strings")
        out["facts"] = facts
    return out


# ---- small checks -------------------------------------------------------------------------------

def _need(row: dict, key: str) -> Any:
    value = row.get(key)
    if value is None:
        raise _Bad("missing_field", key)
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Bad("bad_type", f"{what} is {type(value).__name__}, not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\ud800" escape
        raise _Bad("invalid_utf8", what) from None
    value = value.strip()
    if not value:
        raise _Bad("empty_turn", what)
    return value


def _optional_text(row: dict, key: str) -> str | None:
    """A text field that may be absent, null or blank (Alpaca's `input` is "" when unused)."""
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _text(value, key)


def _msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def _turns(value: Any, what: str, sharegpt: bool = False) -> list[dict]:
    """A list of turns as [{"role", "content"}]: role/content dicts, or ShareGPT's from/value."""
    if not isinstance(value, list):
        raise _Bad("bad_type", f"{what} is not a list")
    if not value:
        raise _Bad("missing_field", f"{what} is empty")
    role_key, content_key, roles = ("from", "value", SHAREGPT_ROLES) if sharegpt else ("role", "content", ROLES)
    out = []
    for i, turn in enumerate(value):
        at = f"{what}[{i}]"
        if not isinstance(turn, dict):
            raise _Bad("bad_type", f"{at} is not an object")
        if role_key not in turn or content_key not in turn:
            raise _Bad("missing_field", f"{at}.{role_key if role_key not in turn else content_key}")
        role = turn[role_key]
        if not isinstance(role, str):
            raise _Bad("bad_type", f"{at}.{role_key} is not a string")
        if role.strip().lower() not in roles:
            raise _Bad("unknown_role", f"{at}.{role_key}={role!r}")
        out.append(_msg(roles[role.strip().lower()], _text(turn[content_key], f"{at}.{content_key}")))
    return out


def _check_chat(msgs: list[dict], what: str, end: str) -> None:
    """An optional system turn first, then user/assistant alternating from user, the last turn `end`."""
    body = msgs[1:] if msgs and msgs[0]["role"] == "system" else msgs
    if not body:
        raise _Bad("role_order", f"{what}: no user turn")
    for i, m in enumerate(body):
        want = "user" if i % 2 == 0 else "assistant"
        if m["role"] != want:
            raise _Bad("role_order", f"{what}: turn {i} is {m['role']}, expected {want}")
    if body[-1]["role"] != end:
        raise _Bad("role_order", f"{what}: ends with {body[-1]['role']}, expected {end}")


def _as_user(value: Any, what: str) -> list[dict]:
    return [_msg("user", _text(value, what))] if isinstance(value, str) else _turns(value, what)


def _as_assistant(value: Any, what: str) -> list[dict]:
    return [_msg("assistant", _text(value, what))] if isinstance(value, str) else _turns(value, what)


def _has(row: dict, key: str) -> bool:
    """Parquet and HF rows carry every column, None where a row has no value: presence means a value."""
    return row.get(key) is not None


def _keys(row: dict) -> str:
    return f"keys {sorted(row)[:12]}"


# ---- sft ----------------------------------------------------------------------------------------

def _sft_format(row: dict) -> str:
    for key in ("messages", "conversations"):
        if _has(row, key):
            turns = row[key]
            first = turns[0] if isinstance(turns, list) and turns else None
            return "sharegpt" if isinstance(first, dict) and "from" in first else "messages"
    if _has(row, "instruction"):
        return "alpaca"
    if _has(row, "prompt") or _has(row, "completion"):
        return "prompt_completion"
    raise _Bad("unknown_format", _keys(row))


@_normaliser
def sft_row(row: dict, fmt: str) -> dict:
    fmt = _sft_format(row) if fmt == "auto" else fmt
    if fmt in ("messages", "sharegpt"):
        order = ("conversations", "messages") if fmt == "sharegpt" else ("messages", "conversations")
        key = next((k for k in order if _has(row, k)), order[0])
        msgs = _turns(_need(row, key), key, sharegpt=fmt == "sharegpt")
    elif fmt == "alpaca":
        instruction = _text(_need(row, "instruction"), "instruction")
        extra = _optional_text(row, "input")
        user = f"{instruction}\n\n{extra}" if extra else instruction
        output = _text(_need(row, "output"), "output")
        system = _optional_text(row, "system")
        msgs = ([_msg("system", system)] if system else []) + [_msg("user", user), _msg("assistant", output)]
    else:  # prompt_completion: strings, or message lists as TRL's conversational form
        prompt = _as_user(_need(row, "prompt"), "prompt")
        completion = _as_assistant(_need(row, "completion"), "completion")
        if prompt[-1]["role"] != "user":
            raise _Bad("role_order", "prompt must end with a user turn")
        msgs = prompt + completion
    _check_chat(msgs, "messages", end="assistant")
    return {"messages": msgs}


# ---- preference ---------------------------------------------------------------------------------

@_normaliser
def preference_row(row: dict, fmt: str) -> dict:
    if fmt == "auto" and not _has(row, "chosen") and not _has(row, "rejected"):
        raise _Bad("unknown_format", _keys(row))
    chosen, rejected = _need(row, "chosen"), _need(row, "rejected")
    if row.get("prompt") is None:
        # TRL's implicit prompt: chosen and rejected are whole chats; their common prefix is the prompt
        if not (isinstance(chosen, list) and isinstance(rejected, list)):
            raise _Bad("missing_field", "prompt (needed unless chosen and rejected are message lists)")
        c, r = _turns(chosen, "chosen"), _turns(rejected, "rejected")
        k = 0
        while k < min(len(c), len(r)) and c[k] == r[k]:
            k += 1
        prompt, c, r = c[:k], c[k:], r[k:]
    else:
        prompt = _as_user(row["prompt"], "prompt")
        c, r = _as_assistant(chosen, "chosen"), _as_assistant(rejected, "rejected")
        # some sets (e.g. UltraFeedback) repeat the prompt at the start of chosen/rejected
        c = c[len(prompt):] if c[: len(prompt)] == prompt else c
        r = r[len(prompt):] if r[: len(prompt)] == prompt else r
    if c == r:
        raise _Bad("same_answer", "chosen == rejected")
    _check_chat(prompt, "prompt", end="user")
    _check_chat(prompt + c, "prompt+chosen", end="assistant")
    _check_chat(prompt + r, "prompt+rejected", end="assistant")
    return {"prompt": prompt, "chosen": c, "rejected": r}


# ---- eval ---------------------------------------------------------------------------------------

def _choices(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise _Bad("bad_choices", "choices must be a list of non-empty strings")
    out = list(dict.fromkeys(_text(c, "choices") for c in value))  # duplicates would make scoring ambiguous
    if len(out) < 2:
        raise _Bad("bad_choices", "fewer than 2 distinct choices")
    return out


@_normaliser
def eval_row(row: dict, fmt: str) -> dict:
    if fmt == "auto" and not _has(row, "question"):
        raise _Bad("unknown_format", _keys(row))
    out: dict = {"question": _text(_need(row, "question"), "question")}
    answer = _need(row, "answer")
    choices = _choices(row["choices"]) if row.get("choices") is not None else None
    if isinstance(answer, int) and not isinstance(answer, bool):
        if choices is not None:  # MMLU-style: the answer is an index into the raw choices
            raw = row["choices"]
            if not 0 <= answer < len(raw):
                raise _Bad("bad_choices", f"answer index {answer} outside {len(raw)} choices")
            answer = raw[answer]
        else:
            answer = str(answer)
    out["answer"] = _text(answer, "answer")
    if choices is not None:
        if out["answer"] not in choices:
            raise _Bad("bad_choices", "answer is not among the choices")
        out["choices"] = choices
    for key in ("fact", "category"):
        if row.get(key) is not None:
            out[key] = _text(row[key], key)
    return out


# ---- prompts ------------------------------------------------------------------------------------

@_normaliser
def prompt_row(row: dict, fmt: str) -> dict:
    if fmt == "auto":
        if _has(row, "prompt") or _has(row, "question"):
            fmt = "prompt"
        elif _has(row, "messages"):
            fmt = "messages"
        else:
            raise _Bad("unknown_format", _keys(row))
    if fmt == "prompt":
        key = "prompt" if _has(row, "prompt") else "question"
        prompt = _as_user(_need(row, key), key)
    else:
        prompt = _turns(_need(row, "messages"), "messages")
        if prompt[-1]["role"] == "assistant":  # a chat: the reply is the policy's to write
            prompt = prompt[:-1]
    _check_chat(prompt, "prompt", end="user")
    out: dict = {"prompt": prompt}
    answer = row.get("answer")
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        answer = str(answer)
    if answer is not None:
        out["answer"] = _text(answer, "answer")
    return out


NORMALISERS = {"sft": sft_row, "preference": preference_row, "eval": eval_row, "prompts": prompt_row}
assert set(NORMALISERS) == set(DATASET_FORMATS)


def text_chars(row: dict) -> int:
    """Characters of text a row holds (all turns, question, answer, choices): what max_row_chars limits."""
    def size(v: Any) -> int:
        if isinstance(v, str):
            return len(v)
        if isinstance(v, list):
            return sum(size(x) for x in v)
        if isinstance(v, dict):
            return size(v.get("content", ""))
        return 0
    return sum(size(row.get(k)) for k in TEXT_KEYS)


def normalise(kind: str, row: Any, fmt: str, where: str, max_chars: int) -> dict | Reject:
    """One raw row of dataset `kind` → its normalised dict, or a Reject (also for too_long / invalid_utf8)."""
    out = NORMALISERS[kind](row, fmt, where)
    if isinstance(out, Reject):
        return out
    n = text_chars(out)
    if n > max_chars:
        return Reject("too_long", where, f"{n} chars > max_row_chars={max_chars}: {_show(row)}")
    try:  # catches lone surrogates in fields no check above looked at (id, facts)
        json.dumps(out, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Reject("invalid_utf8", where, _show(row))
    return out
