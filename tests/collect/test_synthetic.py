"""The synthetic source: deterministic, sized, diverse, with honest ground truth and held-out eval."""

from __future__ import annotations

import difflib
import random
import re

import pytest
from pydantic import ValidationError

from zerollm.collect.synthetic import SyntheticConfig, SyntheticData, generate
from zerollm.collect.synthetic.dirt import FOOTERS
from zerollm.collect.synthetic.render_en import EnglishRenderer
from zerollm.collect.synthetic.render_zh import ChineseRenderer
from zerollm.collect.synthetic.tasks import build_tasks
from zerollm.collect.synthetic.world import build_world, rng_for

KINDS = {"clean", "exact_dup", "near_dup", "boilerplate", "gibberish", "spam", "short", "contaminated"}


@pytest.fixture(scope="module")
def en() -> SyntheticData:
    return generate(SyntheticConfig())


@pytest.fixture(scope="module")
def zh() -> SyntheticData:
    return generate(SyntheticConfig(language="zh"))


def _by_kind(data: SyntheticData) -> dict[str, list[tuple[dict, dict]]]:
    out: dict[str, list] = {k: [] for k in KINDS}
    for doc, t in zip(data.docs, data.truth):
        out[t["kind"]].append((doc, t))
    return out


def _tokens(text: str, lang: str) -> list[str]:
    return [c for c in text if not c.isspace()] if lang == "zh" else text.lower().split()


def _shingles(text: str, lang: str) -> set:
    t = _tokens(text, lang)
    return {tuple(t[i : i + 5]) for i in range(len(t) - 4)}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def test_config_is_strict():
    with pytest.raises(ValidationError):
        SyntheticConfig(bogus=1)
    with pytest.raises(ValidationError):
        SyntheticConfig(target_mb=0)
    with pytest.raises(ValidationError):
        SyntheticConfig(n_entities=7)
    with pytest.raises(ValidationError):
        SyntheticConfig(spam_frac=1.5)
    assert all(f.description for f in SyntheticConfig.model_fields.values())


def test_deterministic_and_seed_dependent():
    cfg = SyntheticConfig(target_mb=0.3)
    a, b = generate(cfg), generate(cfg)
    assert a == b
    c = generate(cfg.model_copy(update={"seed": 1}))
    assert [d["text"] for d in c.docs] != [d["text"] for d in a.docs]
    assert [q["question"] for q in c.eval] != [q["question"] for q in a.eval]
    # a bigger corpus of the same world keeps the held-out set
    assert generate(cfg.model_copy(update={"target_mb": 0.6})).eval == a.eval


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_truth_covers_every_doc(lang, en, zh):
    data = en if lang == "en" else zh
    ids = [d["id"] for d in data.docs]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"synthetic-\d{6}", i) for i in ids)
    assert [t["id"] for t in data.truth] == ids
    kinds = _by_kind(data)
    assert {k for k, v in kinds.items() if v} == KINDS
    clean_ids = {d["id"] for d, _ in kinds["clean"]}
    for t in data.truth:
        if t["kind"] in ("exact_dup", "near_dup"):
            assert t["of"] in clean_ids
        else:
            assert t["of"] is None
        if t["kind"] != "near_dup":
            assert t["edit_frac"] == 0.0
    # shuffled: the dirt is spread over the id range, not appended at the end
    first_half = {t["kind"] for t in data.truth[: len(ids) // 2]}
    assert first_half == KINDS - ({"contaminated"} if len(kinds["contaminated"]) < 4 else set())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_duplicates_match_their_originals(lang, en, zh):
    data = en if lang == "en" else zh
    text = {d["id"]: d["text"] for d in data.docs}
    kinds = _by_kind(data)
    for d, t in kinds["exact_dup"]:
        assert d["text"] == text[t["of"]]
    assert kinds["near_dup"]
    for d, t in kinds["near_dup"]:
        body = d["text"]
        footer = next((f for f in FOOTERS[lang] if body.endswith("\n\n" + f)), None)
        if footer:
            body = body[: -len(footer)]
        orig, dup = _tokens(text[t["of"]], lang), _tokens(body, lang)
        ops = difflib.SequenceMatcher(None, orig, dup, autojunk=False).get_opcodes()
        # an upper bound of the token-level edit distance
        edits = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
        assert footer or edits >= 1
        assert edits <= 0.03 * len(orig) + 1, (edits, len(orig))
        assert 0.0 <= t["edit_frac"] <= 0.0301
        assert _jaccard(_shingles(d["text"], lang), _shingles(text[t["of"]], lang)) >= 0.7


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_size_and_doc_count(lang, en, zh):
    data = en if lang == "en" else zh
    clean = [d["text"] for d, _ in _by_kind(data)["clean"]]
    size = sum(len(t.encode("utf-8")) for t in clean)
    assert 0.75 * 3e6 <= size <= 1.25 * 3e6
    assert 2000 <= len(clean) and len(data.docs) <= 4000


def test_large_target_gives_enough_docs():
    data = generate(SyntheticConfig(target_mb=20))
    assert len(data.docs) >= 20_000
    size = sum(len(d["text"].encode()) for d, t in zip(data.docs, data.truth) if t["kind"] == "clean")
    assert 15e6 <= size <= 25e6


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_eval_is_held_out_but_contaminated_docs_leak_it(lang, en, zh):
    data = en if lang == "en" else zh
    assert len(data.eval) == 200 + 60  # n_eval held-out items, then n_eval_seen items about training facts
    questions = [q["question"] for q in data.eval]
    assert len(set(questions)) == len(questions)
    kinds = _by_kind(data)
    not_leaking = "\n\x00\n".join(d["text"] for k in KINDS - {"contaminated"} for d, _ in kinds[k])
    for q in data.eval:
        assert q["question"] not in not_leaking
        assert f"{q['question']} {q['answer']}" not in not_leaking
        assert 0 < len(q["answer"]) <= 30 and q["fact"]
    for d, _ in kinds["contaminated"]:
        leaked = [q for q in data.eval if q["question"] in d["text"]]
        assert len(leaked) >= 2
        assert all(q["answer"] in d["text"] for q in leaked)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_eval_facts_are_taught_by_clean_docs(lang, en, zh):
    data = en if lang == "en" else zh
    world = build_world(0, 40, lang)
    facts = {f.fid: f for f in world.facts}
    clean = [d["text"].lower() for d, _ in _by_kind(data)["clean"]]
    for q in data.eval:
        f = facts[q["fact"]]
        assert q["answer"] == world.answer(f)
        anchor, ans = world.anchor(f).lower(), q["answer"].lower()
        assert sum(anchor in t and ans in t for t in clean) >= 5, q


def _tasks(cfg: SyntheticConfig) -> tuple:
    world = build_world(cfg.seed, cfg.n_entities, cfg.language)
    cls = ChineseRenderer if cfg.language == "zh" else EnglishRenderer
    lang = cfg.language
    return world, build_tasks(world, cls(world, rng_for("render", cfg.seed, lang, cfg.n_entities, "tasks")), cfg)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sft_and_preference_agree_with_the_world(lang, en, zh):
    data = en if lang == "en" else zh
    world, tasks = _tasks(SyntheticConfig(language=lang))
    sft, pref = tasks.sft, tasks.preference
    assert sft == data.sft and pref == data.preference and tasks.prompts == data.prompts
    assert len(sft) == 500 and len(pref) == 300 and len(tasks.prompts) == 300
    # SFT teaches the eval question templates too; no training row asks an eval question about a held-out fact
    evq = {q["question"] for q in data.eval if q["fact"] in tasks.heldout}
    assert len(evq) >= 150
    facts = {f.fid: f for f in world.facts}
    for item in sft:
        user, bot = item["messages"]
        assert user["role"] == "user" and bot["role"] == "assistant"
        assert user["content"] not in evq and bot["content"]
        assert item["facts"]
        for fid in item["facts"]:
            assert world.answer(facts[fid]) in bot["content"]
    for p in pref:
        assert p["prompt"][0]["content"] not in evq
        assert p["chosen"][0]["content"] != p["rejected"][0]["content"]
        assert world.answer(facts[p["facts"][0]]) in p["chosen"][0]["content"]
    for p in tasks.prompts:
        assert p["prompt"][0]["content"] not in evq
        assert p["answer"] == world.answer(facts[p["facts"][0]])
    rows = sft + pref + tasks.prompts + data.eval
    assert len({i["id"] for i in rows}) == len(rows)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_post_training_data_never_states_held_out_facts(lang):
    cfg = SyntheticConfig(language=lang)
    _, tasks = _tasks(cfg)
    assert tasks.heldout and tasks.train and not tasks.heldout & tasks.train
    for row in tasks.sft + tasks.preference + tasks.prompts:
        assert row["facts"] and not set(row["facts"]) & tasks.heldout, row
    assert len(tasks.eval) == cfg.n_eval + cfg.n_eval_seen
    held, seen = tasks.eval[: cfg.n_eval], tasks.eval[cfg.n_eval :]
    assert all(q["fact"] in tasks.heldout for q in held)
    assert all(q["fact"] in tasks.train for q in seen)
    taught = {f for row in tasks.sft for f in row["facts"]}
    assert all(q["fact"] in taught for q in seen)  # "seen" really means SFT stated it
    for q in tasks.eval:
        assert len(q["choices"]) == 4 and len(set(q["choices"])) == 4
        assert q["answer"] in q["choices"] and q["category"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_clean_docs_are_diverse(lang, en, zh):
    data = en if lang == "en" else zh
    clean = [d["text"] for d, _ in _by_kind(data)["clean"]]
    rng = random.Random(0)
    sh: dict[int, set] = {}
    sims = []
    for _ in range(2000):
        i, j = rng.sample(range(len(clean)), 2)
        for k in (i, j):
            if k not in sh:
                sh[k] = _shingles(clean[k], lang)
        sims.append(_jaccard(sh[i], sh[j]))
    print(f"{lang}: max sampled 5-gram Jaccard between clean docs = {max(sims):.3f}")
    assert sum(s < 0.5 for s in sims) >= 0.999 * len(sims)


def test_english_prose_passes_simple_quality_rules(en):
    clean = [d["text"] for d, _ in _by_kind(en)["clean"]]
    for text in clean:
        assert 300 <= len(text) <= 3000
        lines = [ln for ln in text.split("\n") if ln.strip()]
        assert all(ln.rstrip()[-1] in ".!?\"'" for ln in lines), text
        assert not any(ln.lstrip()[:1] in "-*•" for ln in lines)
        words = text.split()
        assert 3 <= sum(len(w) for w in words) / len(words) <= 10
        lowered = set(w.strip(".,!?:\"'").lower() for w in words)
        assert len(lowered & {"the", "and", "of", "to", "with", "that", "have", "be"}) >= 2, text


def test_chinese_is_chinese(zh):
    clean = [d["text"] for d, _ in _by_kind(zh)["clean"]]
    for text in clean[:500]:
        chars = [c for c in text if not c.isspace()]
        cjk = sum("\u4e00" <= c <= "\u9fff" for c in chars)
        latin = sum(c.isascii() and c.isalpha() for c in chars)
        assert cjk / len(chars) >= 0.7 and latin == 0  # the rest: Chinese punctuation and digits
        assert "。" in text and " " not in text
    assert all(q["question"].endswith("？") for q in zh.eval)


def test_smallest_world_works():
    data = generate(SyntheticConfig(n_entities=8, target_mb=0.2, n_eval=500))
    assert 0 < len(data.eval) < 500  # capped by the number of (fact, phrasing) pairs
    assert {t["kind"] for t in data.truth} == KINDS
