"""README.zh-CN.md is the whole README in Chinese: both must name the same commands, stages and config
files (read from their code, which is never translated), so that the two cannot drift apart."""

import re

from tests.conftest import REPO

EN, ZH = REPO / "README.md", REPO / "README.zh-CN.md"


def code(text: str) -> str:
    """Everything in code blocks and inline code spans."""
    blocks = re.findall(r"```.*?\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return "\n".join(blocks + spans)


def named(text: str) -> dict[str, set[str]]:
    c = code(text)
    from zerollm.registry import STAGES

    STAGE_NAMES = STAGES.names

    return {
        "make": set(re.findall(r"(?<![\w-])make ([a-z][a-z-]*)", c)),
        "zerollm": set(re.findall(r"zerollm ([a-z][a-z-]*)", c)),
        "stages": {s for s in STAGE_NAMES if re.search(rf"(?<![\w.-]){s}(?![\w-])", c)},
        "configs": set(re.findall(r"configs/[\w.-]+\.ya?ml", text)),
    }


def test_both_readmes_name_the_same_commands_stages_and_configs():
    en, zh = named(EN.read_text(encoding="utf-8")), named(ZH.read_text(encoding="utf-8"))
    for what in en:
        assert en[what] == zh[what], (what, en[what] ^ zh[what])
    from zerollm.registry import STAGES

    STAGE_NAMES = STAGES.names

    assert en["stages"] == set(STAGE_NAMES)
    assert {"run", "test"} <= en["make"]
    for cfg in en["configs"]:
        assert (REPO / cfg).is_file(), cfg


def test_named_commands_exist():
    from flows.cli import app

    commands = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    assert named(EN.read_text(encoding="utf-8"))["zerollm"] <= commands
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    assert named(EN.read_text(encoding="utf-8"))["make"] <= targets


def test_each_links_to_the_other_at_the_top():
    assert "(README.zh-CN.md)" in "".join(EN.read_text(encoding="utf-8").splitlines(True)[:5])
    zh = ZH.read_text(encoding="utf-8")
    assert "(README.md)" in "".join(zh.splitlines(True)[:5])
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in zh) > 3000, "the Chinese README is in Chinese"
