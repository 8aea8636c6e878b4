"""The OpenAI API as this server accepts it: request bodies checked the way api.openai.com checks
them, and errors in its shape, `{"error": {"message", "type", "param", "code"}}`, so that clients
written for it (the `openai` package, lm-eval) report them instead of failing on a parse.

Fields OpenAI defines and llama.cpp cannot honour (`n` > 1, tools) are refused with a 400 naming
them; fields this server does not know are ignored, as clients send vendor extras.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def plain(self) -> dict:
        """The dict the chat template reads: `developer` is OpenAI's newer name for `system`."""
        text = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content or [])
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class Sampling(BaseModel):
    """What chat and text completions share."""
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    n: int = Field(1, ge=1, le=1, description="llama.cpp makes one answer per request")
    stream: bool = False
    stream_options: dict | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    frequency_penalty: float = Field(0.0, ge=-2, le=2)

    @field_validator("stop")
    @classmethod
    def _four_stops(cls, v):
        stops = [v] if isinstance(v, str) else list(v or [])
        if len(stops) > 4:
            raise ValueError("at most 4 stop sequences")
        return stops

    def sampling_kwargs(self) -> dict:
        return {"temperature": self.temperature, "top_p": self.top_p, "stop": list(self.stop or []), "seed": self.seed,
                "presence_penalty": self.presence_penalty, "frequency_penalty": self.frequency_penalty}

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class ChatRequest(Sampling):
    messages: list[Message] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    tools: list | None = None

    @model_validator(mode="after")
    def _checks(self):
        if self.tools:
            raise ValueError("tools are not supported by this server")
        if self.max_completion_tokens is not None:  # OpenAI's newer name wins
            self.max_tokens = self.max_completion_tokens
        return self

    def plain_messages(self) -> list[dict]:
        return [m.plain() for m in self.messages]


class CompletionRequest(Sampling):
    prompt: str | list[str]
    max_tokens: int | None = Field(16, ge=1)  # OpenAI's default for text completions
    echo: bool = False

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, v):
        if isinstance(v, list):
            if len(v) != 1:
                raise ValueError("one prompt per request (a list of exactly one string)")
            return v[0]
        return v


def validation_error(exc) -> ApiError:
    """A pydantic/FastAPI validation error as OpenAI's 400: the first problem, with its field as `param`."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return ApiError(400, "We could not parse the JSON body of your request: it is not valid JSON.",
                        param=None, code="invalid_json")
    if first.get("type") == "model_type" and not loc:
        return ApiError(400, "The request body must be a JSON object.")  # valid JSON, wrong shape
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return ApiError(400, f"Invalid value for '{param}': {msg}." if param else f"Invalid request: {msg}.",
                    param=param, code="invalid_value" if param else None)
