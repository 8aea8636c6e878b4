"""The chat page of `zerollm serve`, in headless Chromium, as a person uses it: a 10-turn conversation
on a model with a 128-token context (older turns fade under a note; no answer is ever blank without a
reason), a message too long for the model, two tabs talking at once, reload and reset."""

import urllib.request

import pytest

from tests.browser import chromium, console_errors
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _ask(page, text: str, answers_before: int, timeout: float = 120):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = page.find_element(By.ID, "prompt")
    box.send_keys(text)
    page.find_element(By.ID, "send").click()
    WebDriverWait(page, timeout).until(
        lambda p: len(p.find_elements(By.CSS_SELECTOR, ".msg[data-done='1']")) > answers_before)
    return page.find_elements(By.CSS_SELECTOR, ".msg[data-done='1']")[-1]


def _blank_without_reason(page) -> list[str]:
    from selenium.webdriver.common.by import By

    bad = []
    for div in page.find_elements(By.CSS_SELECTOR, ".msg.assistant"):
        text = div.find_element(By.CLASS_NAME, "text").text.strip()
        marks = div.find_elements(By.CLASS_NAME, "mark")
        if not text and not (marks and marks[0].text.strip()):
            bad.append(div.get_attribute("outerHTML"))
    return bad


def test_ten_turns_long_message_reload_and_reset(served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with urllib.request.urlopen(f"{served.base}/", timeout=10) as r:
        page_html = r.read().decode()
    assert "http://" not in page_html and "https://" not in page_html  # nothing from a CDN
    with chromium(1000, 900) as page:
        page.get(f"{served.base}/")
        WebDriverWait(page, 30).until(lambda p: "context 128 tokens" in p.find_element(By.ID, "model").text)
        questions = ["In which town does Olive live?", "Who is the baker there?", "What does the river look like?",
                     "Tell me about the old mill by the bridge.", "Who is Isaac Doyle?", "What work does he do?",
                     "Which library is in Claycliff?", "Describe the harbour at dawn.", "What did Olive say?",
                     "And what happened next?"]
        for turn, q in enumerate(questions):
            last = _ask(page, q, turn)
            assert "error" not in last.get_attribute("class"), last.text
            assert last.get_attribute("data-finish") in ("stop", "length")
        assert len(page.find_elements(By.CSS_SELECTOR, ".msg.user")) == 10
        note = page.find_element(By.CLASS_NAME, "note").text
        assert "left out" in note and "128 tokens" in note, note
        assert page.find_elements(By.CSS_SELECTOR, ".msg.out"), "the turns the model no longer sees are marked"
        assert _blank_without_reason(page) == []
        (REPO / "test-artifacts").mkdir(exist_ok=True)
        page.save_screenshot(str(REPO / "test-artifacts" / "chat-page.png"))

        # one message longer than the whole context: a readable error, not an empty bubble
        failed = _ask(page, "Olive lives in Larkhaven by the mill and the river. " * 30, 10)
        assert "error" in failed.get_attribute("class")
        assert "too long for the model" in failed.text and "128" in failed.text, failed.text
        assert console_errors(page) == []

        page.refresh()  # the conversation is kept in this tab until Reset; the failed message is not part of it
        WebDriverWait(page, 30).until(lambda p: len(p.find_elements(By.CSS_SELECTOR, ".msg")) == 20)
        WebDriverWait(page, 30).until(lambda p: p.find_elements(By.CLASS_NAME, "note"))
        page.find_element(By.ID, "reset").click()
        assert page.find_elements(By.CSS_SELECTOR, ".msg") == []
        page.refresh()
        WebDriverWait(page, 30).until(lambda p: "context 128 tokens" in p.find_element(By.ID, "model").text)
        assert page.find_elements(By.CSS_SELECTOR, ".msg") == []


def test_two_tabs_chat_at_once(served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(1000, 800) as page:
        tabs = []
        for q in ("In which town does Olive live?", "Who is Isaac Doyle?"):
            if tabs:
                page.switch_to.new_window("tab")
            page.get(f"{served.base}/")
            WebDriverWait(page, 30).until(lambda p: "context" in p.find_element(By.ID, "model").text)
            page.find_element(By.ID, "prompt").send_keys(q)
            page.find_element(By.ID, "send").click()  # not waiting: the other tab asks while this one streams
            tabs.append((page.current_window_handle, q))
        for handle, q in tabs:
            page.switch_to.window(handle)
            WebDriverWait(page, 120).until(lambda p: p.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-done='1']"))
            users = [u.find_element(By.CLASS_NAME, "text").text
                     for u in page.find_elements(By.CSS_SELECTOR, ".msg.user")]
            assert users == [q], "each tab holds its own conversation"
            answer = page.find_element(By.CSS_SELECTOR, ".msg.assistant")
            assert answer.get_attribute("data-finish") in ("stop", "length")
            assert int(answer.get_attribute("data-chunks")) >= 1 or answer.find_elements(By.CLASS_NAME, "mark")
            assert _blank_without_reason(page) == []
            assert console_errors(page) == []
