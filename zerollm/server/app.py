"""`zerollm serve`: an OpenAI-compatible HTTP API and a chat page on one GGUF file.

Our own FastAPI app on llama-cpp-python's `Llama` (its chat template handling, sampling and OpenAI
response objects), rather than llama-cpp-python's bundled server: that one serialises every request
behind one lock and, by default, ends a running stream with nothing in it whenever another request
arrives; it also answers malformed JSON with 500 and has no bounded queue. Here every accepted
request is answered in full by one of `parallel` model instances, requests beyond the queue get 503
with Retry-After, and client mistakes get OpenAI's 4xx error bodies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from importlib import resources
from pathlib import Path
from typing import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from zerollm import conversation
from zerollm.conversation import ChatTemplate
from zerollm.probe import END_OF_TURN
from zerollm.server.generation import Generation
from zerollm.server.pool import Cancel, Gone, ModelPool, Overloaded, Ticket
from zerollm.server.protocol import ApiError, ChatRequest, CompletionRequest, Message, validation_error

log = logging.getLogger("zerollm.serve")
MAX_BODY = 8 * 2**20  # far beyond any context this project trains; a bigger body is a mistake or an attack


class FitRequest(BaseModel):
    messages: list[Message] = Field(min_length=1)
    reserve: int | None = Field(None, ge=0)


def too_long(n_ctx: int, prompt_tokens: int) -> ApiError:
    return ApiError(400, f"This model's maximum context length is {n_ctx} tokens. However, your messages "
                         f"resulted in {prompt_tokens} tokens, leaving no room for an answer. Please shorten "
                         f"the messages or drop earlier turns.", param="messages", code="context_length_exceeded")


def _as_api_error(exc: Exception, n_ctx: int) -> ApiError | None:
    """llama-cpp-python's own refusal of an over-long prompt (a count that differs from ours by a token)."""
    if isinstance(exc, ValueError) and "exceed context window" in str(exc):
        return ApiError(400, f"This model's maximum context length is {n_ctx} tokens: {exc}.",
                        param="messages", code="context_length_exceeded")
    return None


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


class QueuedStream(StreamingResponse):
    """A streaming response that gives back its queue place and stops its generation however the
    connection ends: also when the client is gone before the body starts."""

    def __init__(self, body: AsyncIterator[str], ticket: Ticket):
        super().__init__(body, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._ticket = ticket

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._ticket.release()
            await self.body_iterator.aclose()


def create_app(pool: ModelPool, path: Path, alias: str) -> FastAPI:
    from zerollm.serving import gguf_info

    app = FastAPI(title="zerollm", version="1", docs_url=None, redoc_url=None)  # those pages load from a CDN
    template = ChatTemplate(pool.tokenizer)
    names = {alias, path.name, path.stem}
    created = int(path.stat().st_mtime)
    eos = pool.tokenizer.token_eos()
    page_info = {"model": alias, "file": path.name, **gguf_info(path), "stop": [END_OF_TURN]}
    page_info["n_ctx"] = pool.n_ctx
    page_info["max_tokens"] = max(16, pool.n_ctx // 2)

    # errors: OpenAI's shape, 4xx for the client's mistakes, a logged traceback only for ours
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        err = validation_error(exc)
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        err = ApiError(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}",
                       code="not_found" if exc.status_code == 404 else None)
        return JSONResponse(err.body(), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(ApiError(500, "The server had an error while processing your request.",
                                     type_="server_error").body(), status_code=500)

    async def parse(request: Request, model: type[BaseModel]):
        body, size = bytearray(), 0
        async for piece in request.stream():  # read to the end (a reply before that resets the client's send)
            size += len(piece)
            if size <= MAX_BODY:
                body += piece
            elif size > 8 * MAX_BODY:
                break
        if size > MAX_BODY:
            raise ApiError(413, f"The request body is larger than {MAX_BODY // 2**20} MiB.", code="body_too_large")
        try:
            return model.model_validate_json(bytes(body))
        except ValidationError as exc:
            raise validation_error(exc) from None

    def count(messages: list[dict]) -> int:
        try:
            return template.count(messages)
        except ValueError as exc:  # the template refused these messages (its raise_exception)
            raise ApiError(400, f"The model's chat template cannot format these messages: {exc}",
                           param="messages") from None

    def check_model(name: str | None) -> None:
        if name and name not in names:
            raise ApiError(404, f"The model `{name}` does not exist. This server serves `{alias}` "
                                f"(see /v1/models).", param="model", code="model_not_found")

    def admit() -> Ticket:
        try:
            return pool.admit()
        except Overloaded as exc:
            raise ApiError(503, f"The server is busy: {pool.queue_limit} requests are already waiting. "
                                f"Retry after {exc.retry_after} s.", type_="server_error",
                           code="server_overloaded", headers={"Retry-After": str(exc.retry_after)}) from None

    def model_card() -> dict:
        return {"id": alias, "object": "model", "created": created, "owned_by": "zerollm",
                "context_length": pool.n_ctx}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{name}")
    async def model(name: str) -> dict:
        check_model(name or "?")
        return model_card()

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": alias, **pool.stats()}

    async def answer(request: Request, ticket: Ticket, call: Callable, stream: bool, usage: Callable | None):
        """Wait for an instance, generate, and reply (a JSON body, or SSE chunks ending in [DONE])."""
        async def gone() -> bool:
            return await request.is_disconnected()

        if not stream:
            try:
                llm = await pool.acquire(ticket, gone)
            except Gone:
                return JSONResponse({}, status_code=499)
            gen = Generation(pool, llm, call)
            pending = asyncio.ensure_future(gen.next())
            while not pending.done():
                await asyncio.wait({pending}, timeout=0.25)
                if not pending.done() and await gone():
                    gen.cancel.set()  # the instance frees itself at the next token
                    pending.cancel()
                    return JSONResponse({}, status_code=499)
            kind, item = pending.result()
            if kind == "error":
                raise _as_api_error(item, pool.n_ctx) or item
            return JSONResponse(item)

        async def events() -> AsyncIterator[str]:
            try:
                llm = await pool.acquire(ticket, gone)
            except Gone:
                return
            gen = Generation(pool, llm, call)
            text: list[str] = []
            last: dict = {}
            try:
                while True:
                    kind, item = await gen.next()
                    if kind == "end":
                        break
                    if kind == "error":
                        err = _as_api_error(item, pool.n_ctx)
                        if err is None:
                            log.error("generation failed", exc_info=item)
                            err = ApiError(500, "The server had an error while generating.", type_="server_error")
                        yield _sse(err.body())
                        return
                    last = item
                    choice = item["choices"][0] if item.get("choices") else {}
                    text.append((choice.get("delta") or {}).get("content") or choice.get("text") or "")
                    yield _sse(item)  # a client that leaves cancels this generator (starlette)
                if usage is not None:
                    yield _sse({**{k: last.get(k) for k in ("id", "object", "created", "model")}, "choices": [],
                                "usage": usage("".join(text))})
                yield _sse("[DONE]")
            finally:
                gen.cancel.set()

        return QueuedStream(events(), ticket)

    def usage_of(prompt_tokens: int) -> Callable[[str], dict]:
        def count(text: str) -> dict:
            done = len(pool.tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0
            return {"prompt_tokens": prompt_tokens, "completion_tokens": done, "total_tokens": prompt_tokens + done}
        return count

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        req: ChatRequest = await parse(request, ChatRequest)
        check_model(req.model)
        messages = req.plain_messages()
        prompt_tokens = count(messages)
        if prompt_tokens >= pool.n_ctx:
            raise too_long(pool.n_ctx, prompt_tokens)
        kwargs = {**req.sampling_kwargs(), "messages": messages, "max_tokens": req.max_tokens, "model": alias,
                  "stream": req.stream}
        kwargs["stop"] = [*kwargs["stop"], END_OF_TURN] if END_OF_TURN not in kwargs["stop"] else kwargs["stop"]

        def call(llm, cancel: Cancel):
            from llama_cpp import LogitsProcessorList

            return llm.create_chat_completion(**kwargs, logits_processor=LogitsProcessorList([cancel.processor(eos)]))

        ticket = admit()
        return await answer(request, ticket, call, req.stream,
                            usage_of(prompt_tokens) if req.stream and req.include_usage else None)

    @app.post("/v1/completions")
    async def completions(request: Request):
        req: CompletionRequest = await parse(request, CompletionRequest)
        check_model(req.model)
        prompt_tokens = 1 + template.tokens(req.prompt)  # + bos, as llama-cpp-python adds it
        if prompt_tokens >= pool.n_ctx:
            raise too_long(pool.n_ctx, prompt_tokens)
        kwargs = {**req.sampling_kwargs(), "prompt": req.prompt, "max_tokens": req.max_tokens, "model": alias,
                  "stream": req.stream, "echo": req.echo}

        def call(llm, cancel: Cancel):
            from llama_cpp import LogitsProcessorList

            return llm.create_completion(**kwargs, logits_processor=LogitsProcessorList([cancel.processor(eos)]))

        ticket = admit()
        return await answer(request, ticket, call, req.stream,
                            usage_of(prompt_tokens) if req.stream and req.include_usage else None)

    # the chat page: shipped in the package (no CDN), talking to the API above
    page = resources.files("zerollm.web").joinpath("chat.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/chat/info", include_in_schema=False)
    async def chat_info() -> dict:
        return page_info

    @app.post("/chat/fit", include_in_schema=False)
    async def chat_fit(request: Request) -> dict:
        """The turns of a conversation that fit the context (zerollm.conversation's rule)."""
        req: FitRequest = await parse(request, FitRequest)
        reserve = page_info["max_tokens"] if req.reserve is None else req.reserve
        fit = conversation.fit([m.plain() for m in req.messages], count, pool.n_ctx, reserve)
        return {"messages": fit.messages, "dropped": fit.dropped, "prompt_tokens": fit.prompt_tokens,
                "budget": fit.budget, "n_ctx": pool.n_ctx, "fits": fit.fits}

    return app
