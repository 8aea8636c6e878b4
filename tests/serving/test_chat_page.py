"""The chat page of `zerollm serve`, in headless Chromium: a question typed into the box gets an answer
streamed from the OpenAI-compatible endpoint; the header names the model and its quant type; reset
clears the conversation, which otherwise survives a reload."""

import os
import urllib.request

import pytest

from tests.browser import chromium, console_errors
from tests.conftest import REPO
from tests.flows.servers import free_port, server
from tests.serving.test_serving import ZEROLLM

pytestmark = pytest.mark.slow


def test_chat_page_streams_an_answer(released, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from zerollm.serving import resolve

    qtype = resolve("latest", released["work"]).stem.removeprefix("model-")  # the served file: model-<TYPE>.gguf
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [ZEROLLM, "serve", "--workdir", str(released["work"]), "--model", "latest", "--port", str(port)]
    with server(cmd, f"{base}/chat/info", tmp_path / "serve.log", dict(os.environ)):
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:
            page_html = r.read().decode()
        assert "http://" not in page_html.replace(base, "") and "https://" not in page_html  # nothing from a CDN
        with chromium(1000, 800) as page:
            page.get(f"{base}/")
            WebDriverWait(page, 30).until(lambda p: f" · {qtype} · " in p.find_element(By.ID, "model").text)
            page.find_element(By.ID, "prompt").send_keys("In which town does Olive live?")
            page.find_element(By.ID, "send").click()
            WebDriverWait(page, 120).until(
                lambda p: p.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-done='1']"))
            answer = page.find_element(By.CSS_SELECTOR, ".msg.assistant")
            assert int(answer.get_attribute("data-chunks")) >= 2, "the answer came in pieces, as it was made"
            assert answer.find_element(By.CLASS_NAME, "text").text.strip()
            assert page.find_element(By.CSS_SELECTOR, ".msg.user").text.endswith("In which town does Olive live?")
            assert console_errors(page) == []
            (REPO / "test-artifacts").mkdir(exist_ok=True)
            page.save_screenshot(str(REPO / "test-artifacts" / "chat-page.png"))
            page.refresh()  # the conversation is kept in the browser until Reset
            WebDriverWait(page, 30).until(lambda p: len(p.find_elements(By.CSS_SELECTOR, ".msg")) == 2)
            page.find_element(By.ID, "reset").click()
            assert page.find_elements(By.CSS_SELECTOR, ".msg") == []
            page.refresh()
            WebDriverWait(page, 30).until(lambda p: f" · {qtype} · " in p.find_element(By.ID, "model").text)
            assert page.find_elements(By.CSS_SELECTOR, ".msg") == []
