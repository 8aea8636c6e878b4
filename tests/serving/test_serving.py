"""`zerollm chat` piped, on the tiny run (the server: test_api, test_chat_page, test_lm_eval)."""

import subprocess

from tests.conftest import REPO
from tests.serving.conftest import ZEROLLM


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


def test_chat_keeps_a_long_conversation_in_context(released):
    """12 long questions into a 128-token context, with a system prompt: older turns make way, a line
    says so, and a message that cannot fit even alone is not sent."""
    question = "In which town does Olive live? Tell me about the baker, the river and the old mill by the bridge.\n"
    script = question * 12 + "Olive " * 200 + "\n"
    proc = subprocess.run([ZEROLLM, "chat", "--workdir", str(released["work"]), "--model", "latest",
                           "--max-tokens", "16", "--system", "You answer briefly."], input=script,
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    left_out = [ln for ln in lines if "earlier message(s) left out" in ln]
    assert left_out and "128 tokens" in left_out[-1], proc.stdout[-2000:]
    assert lines[-1].startswith("(not sent: this message needs") and "holds 128" in lines[-1]
    assert "Traceback" not in proc.stderr
