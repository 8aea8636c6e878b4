"""`zerollm serve` through clients nobody here wrote: the official `openai` package (chat, stream,
completions, 16 streams at once, its error types) and raw HTTP for bodies no client would send."""

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.serving.conftest import serve

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "In which town does Olive live?"}]


def client(served, **kw):
    from openai import OpenAI

    return OpenAI(base_url=served.api, api_key="unused", max_retries=0, timeout=120, **kw)


def post(url: str, body: bytes, timeout: float = 60) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of a raw POST, errors included."""
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


def test_openai_client_chat_stream_and_completions(served):
    c = client(served)
    assert [m.id for m in c.models.list()] == [served.model]
    reply = c.chat.completions.create(model=served.model, messages=QUESTION, max_tokens=12)
    assert reply.model == served.model, "the reply names the served model, not the file path"
    assert reply.choices[0].finish_reason in ("stop", "length") and reply.usage.completion_tokens >= 1

    chunks = list(c.chat.completions.create(model=served.model, messages=QUESTION, max_tokens=12, stream=True,
                                            stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert text.strip() and finish in (["stop"], ["length"])
    assert {ch.model for ch in chunks} == {served.model}
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens >= 1

    done = c.completions.create(model=served.model, prompt="Olive lives in", max_tokens=6)
    assert done.model == served.model and done.choices[0].text and done.choices[0].finish_reason == "length"
    streamed = list(c.completions.create(model=served.model, prompt="Olive lives in", max_tokens=6, stream=True))
    assert "".join(ch.choices[0].text for ch in streamed if ch.choices).strip()


def test_sixteen_concurrent_streams_all_complete(served):
    """The case that came back as 15 empty 200s: every stream now carries content and a finish_reason."""
    from openai import AsyncOpenAI

    async def one(c, i: int) -> tuple[str, str | None]:
        text, finish = "", None
        stream = await c.chat.completions.create(
            model=served.model, max_tokens=24, stream=True,
            messages=[{"role": "user", "content": f"Question {i}: in which town does Olive live?"}])
        async for ch in stream:
            if ch.choices:
                text += ch.choices[0].delta.content or ""
                finish = ch.choices[0].finish_reason or finish
        return text, finish

    async def all_of(n: int):
        c = AsyncOpenAI(base_url=served.api, api_key="unused", max_retries=0, timeout=120)
        return await asyncio.wait_for(asyncio.gather(*(one(c, i) for i in range(n))), timeout=240)

    results = asyncio.run(all_of(16))
    assert len(results) == 16
    assert all(text.strip() and finish in ("stop", "length") for text, finish in results), results


def test_bad_requests_get_openai_errors_not_500(served):
    import openai

    url = f"{served.api}/chat/completions"
    cases = {
        b"{not json": (400, "invalid_json"),
        b"just text": (400, "invalid_json"),
        b'"a string"': (400, None),
        json.dumps({"model": served.model, "messages": QUESTION, "max_tokens": -5}).encode(): (400, "invalid_value"),
        json.dumps({"model": served.model, "messages": []}).encode(): (400, "invalid_value"),
        json.dumps({"model": "gpt-4", "messages": QUESTION}).encode(): (404, "model_not_found"),
        json.dumps({"messages": [{"role": "user", "content": "x" * 9 * 2**20}]}).encode(): (413, "body_too_large"),
    }
    for body, (status, code) in cases.items():
        got, reply, _ = post(url, body)
        assert got == status, (body, got, reply)
        assert reply["error"]["message"] and reply["error"]["code"] == code, (body, reply)
        assert reply["error"]["type"] == "invalid_request_error"

    c = client(served)
    with pytest.raises(openai.NotFoundError) as nf:
        c.chat.completions.create(model="gpt-4", messages=QUESTION)
    assert nf.value.code == "model_not_found"

    # a conversation longer than the context: the same 400 whether streamed or not
    n_ctx = c.models.list().data[0].model_extra["context_length"]
    long = [{"role": "user" if i % 2 == 0 else "assistant", "content": "Olive lives in Larkhaven by the mill. " * 6}
            for i in range(n_ctx // 16 + 1)]
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as too_long:
            out = c.chat.completions.create(model=served.model, messages=long, stream=stream, max_tokens=8)
            list(out) if stream else None
        assert too_long.value.code == "context_length_exceeded", too_long.value
        assert str(n_ctx) in too_long.value.message

    log = served.log.read_text()
    assert "Traceback" not in log and "Internal Server Error" not in log, log[-3000:]


def _stream_or_refusal(url: str, model: str, out: list, i: int) -> None:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": f"Tell me about Olive, {i}."}],
                       "max_tokens": 100, "stream": True}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            events = [ln[6:] for ln in r.read().decode().splitlines() if ln.startswith("data: ")]
        chunks = [json.loads(e) for e in events[:-1]]
        out.append(("200", events[-1], [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices")]))
    except urllib.error.HTTPError as e:
        out.append((str(e.code), e.headers.get("Retry-After"), json.loads(e.read())["error"]["code"]))


def test_requests_beyond_the_queue_are_refused_at_once(released, tmp_path):
    """With no queue, requests that find the only instance busy get 503 + Retry-After at once; every
    accepted stream still ends with a finish_reason and [DONE]."""
    base, log, running = serve(released, tmp_path, "--queue", "0", "--parallel", "1")
    with running:
        out: list = []
        threads = [threading.Thread(target=_stream_or_refusal, args=(f"{base}/v1/chat/completions", "", out, i))
                   for i in range(8)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        assert len(out) == 8 and time.monotonic() - start < 120
        refused = [o for o in out if o[0] == "503"]
        answered = [o for o in out if o[0] == "200"]
        assert refused and answered, out
        assert all(int(retry) >= 1 and code == "server_overloaded" for _, retry, code in refused), refused
        assert all(done == "[DONE]" and finishes[-1] in ("stop", "length") for _, done, finishes in answered), answered
        with urllib.request.urlopen(f"{base}/health", timeout=10) as r:
            health = json.load(r)
        assert health["refused"] == len(refused) and health["busy"] == 0 and health["waiting"] == 0
