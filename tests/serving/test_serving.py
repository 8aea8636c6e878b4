"""`zerollm chat` piped, and `zerollm serve` answering OpenAI-style HTTP requests, on the tiny run."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.flows.servers import free_port

ZEROLLM = str(Path(sys.executable).with_name("zerollm"))


def test_chat_piped_answers_then_quits(released):
    script = "In which town does Olive live?\n/reset\nWho are you?\n/quit\nnever read\n"
    proc = subprocess.run([ZEROLLM, "chat", "--workdir", str(released["work"]), "--model", "latest",
                           "--max-tokens", "12"], input=script, capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert "(conversation cleared)" in lines
    answers = [ln for ln in lines if ln != "(conversation cleared)"]
    assert len(answers) >= 2 and any(a.strip() for a in answers)


def test_chat_names_a_missing_model(tmp_path):
    proc = subprocess.run([ZEROLLM, "chat", "--workdir", str(tmp_path), "--model", "latest"], input="hi\n",
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert "no quantized model" in proc.stderr and "Traceback" not in proc.stderr


def _post(url: str, body: dict) -> urllib.request.Request:
    return urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


@pytest.mark.slow
def test_serve_openai_chat_completions(released, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([ZEROLLM, "serve", "--workdir", str(released["work"]), "--model", "champion",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                env={**os.environ})
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as r:
                    models = json.load(r)
                break
            except OSError:
                assert time.time() < deadline, log.read_text()[-3000:]
                time.sleep(0.5)
        name = models["data"][0]["id"]
        msgs = [{"role": "user", "content": "In which town does Olive live?"}]
        with urllib.request.urlopen(_post(f"{base}/chat/completions", {"model": name, "messages": msgs,
                                                                      "max_tokens": 12}), timeout=60) as r:
            reply = json.load(r)
        assert reply["object"] == "chat.completion"
        assert isinstance(reply["choices"][0]["message"]["content"], str)
        assert reply["usage"]["completion_tokens"] >= 1
        with urllib.request.urlopen(_post(f"{base}/chat/completions", {"model": name, "messages": msgs,
                                                                      "max_tokens": 8, "stream": True}),
                                    timeout=60) as r:
            events = [ln for ln in r.read().decode().splitlines() if ln.startswith("data: ")]
        assert events[-1] == "data: [DONE]"
        assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
