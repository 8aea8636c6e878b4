"""An Ollama Modelfile whose TEMPLATE says what the model's own chat template says.

Ollama templates are Go templates, so the Jinja template cannot be copied over. Instead the Jinja
template is rendered with marker contents to read off the text around each role's message and the
generation prompt; the Go template is built from those pieces, and `expand()` (the Go template's
meaning, in Python) is checked against the Jinja rendering of a whole conversation before anything
is written. A template that is not "one wrapper per message, then a prompt" is refused, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("system", "user", "assistant")
_MARK = "\x00CONTENT\x00"


class TemplateNotPortable(ValueError):
    pass


@dataclass
class ChatShape:
    wrappers: dict[str, tuple[str, str]]  # role -> (before content, after content)
    generation_prompt: str
    stops: list[str]


def _render(tok, messages, add_generation_prompt=False) -> str:
    return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def read_shape(tok, stops: list[str]) -> ChatShape:
    wrappers = {}
    for role in ROLES:
        text = _render(tok, [{"role": role, "content": _MARK}])
        if text.count(_MARK) != 1:
            raise TemplateNotPortable(f"the chat template does not render a lone {role} message once")
        before, after = text.split(_MARK)
        wrappers[role] = (before, after)
    base = _render(tok, [{"role": "user", "content": _MARK}])
    with_prompt = _render(tok, [{"role": "user", "content": _MARK}], add_generation_prompt=True)
    if not with_prompt.startswith(base):
        raise TemplateNotPortable("the generation prompt is not appended after the messages")
    shape = ChatShape(wrappers, with_prompt[len(base):], stops)
    sample = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"},
              {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Where?\nThere."}]
    if expand(shape, sample, True) != _render(tok, sample, add_generation_prompt=True):
        raise TemplateNotPortable("the chat template is not one wrapper per message (e.g. a default system "
                                  "prompt or a special first turn)")
    return shape


def expand(shape: ChatShape, messages: list[dict], add_generation_prompt: bool) -> str:
    """What the Go template below renders for `messages` (Ollama passes the system prompt as a message)."""
    out = "".join(shape.wrappers[m["role"]][0] + m["content"] + shape.wrappers[m["role"]][1] for m in messages)
    return out + (shape.generation_prompt if add_generation_prompt else "")


def _go_literal(text: str) -> str:
    """A Go template action printing `text` exactly (a Go string literal inside {{ }})."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '{{ "' + escaped + '" }}'


def go_template(shape: ChatShape) -> str:
    w = shape.wrappers
    branches = []
    for i, role in enumerate(ROLES):
        head = "{{- if" if i == 0 else "{{- else if"
        before, after = w[role]
        branches.append(f'{head} eq .Role "{role}" }}}}{_go_literal(before)}{{{{ .Content }}}}{_go_literal(after)}')
    body = "".join(branches) + "{{- end }}"
    # Ollama renders the template for the prompt only, so the generation prompt always closes it
    return "{{- range .Messages }}" + body + "{{- end }}" + _go_literal(shape.generation_prompt)


def modelfile(gguf_name: str, shape: ChatShape, params: dict[str, object] | None = None) -> str:
    lines = [f"FROM ./{gguf_name}", "", f'TEMPLATE """{go_template(shape)}"""', ""]
    for stop in shape.stops:
        lines.append(f'PARAMETER stop "{stop}"')
    for k, v in (params or {}).items():
        lines.append(f"PARAMETER {k} {v}")
    return "\n".join(lines) + "\n"
