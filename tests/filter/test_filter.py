import logging

import pytest

from zerollm.filter import stage as filt
from zerollm.filter.config import FilterConfig
from zerollm.io.shards import ShardWriter, read_docs, read_jsonl

ZH = [
    "王小明住在长江边的一个小镇上。他每天早上六点起床，先去河边散步，然后回家和家人一起吃早饭。"
    "他的妈妈是一名老师，在镇上的小学教语文。他的爸爸在一家工厂工作，每天都很忙。"
    "周末的时候，王小明喜欢去图书馆看书，他最喜欢的书是关于动物的故事。他说以后想当一名兽医，帮助生病的小动物。"
    "他还养了一只黄色的小狗，名字叫豆豆。豆豆很聪明，也很听话，每天都在门口等他放学回家。",
    "春天来了，山上的花都开了。村子里的人们一起去田里种地，孩子们在草地上放风筝。"
    "李奶奶今年七十岁了，她的身体很好，每天都会去菜园里看看她种的青菜和西红柿。"
    "她说，只要天气好，今年的收成一定不错。到了秋天，她会把新鲜的蔬菜送给邻居们，大家都很感谢她。"
    "晚上，村子里很安静，只有小河的流水声和远处的狗叫声。人们坐在院子里聊天，一直到很晚才回家休息。",
    "小红是一名医生，她在北京的一家医院工作了十年。她每天都要看很多病人，有时候还要上夜班。"
    "虽然工作很辛苦，但是她觉得帮助别人是一件很有意义的事情。她的丈夫是一名工程师，他们有一个可爱的女儿。"
    "女儿今年五岁，很喜欢画画，她画的小猫和小鸟都很像。每到假期，一家人就会一起去公园或者博物馆。"
    "小红说，和家人在一起的时间是她最开心的时候，她希望女儿以后也能做自己喜欢的工作。",
]
EN = [
    "The old lighthouse stands at the end of the harbour, and its keeper climbs the stairs every evening. "
    "He cleans the glass, checks the oil and watches the boats come home before the sun goes down. "
    "In the winter the storms are strong, and the light helps the fishermen find their way back to the town. "
    "The children of the village like to visit him, because he tells them stories about the sea and the ships. "
    "He has lived there for thirty years, and he says that he would not want to live anywhere else.",
    "Maria works at the bakery on the corner of the market square. She starts before dawn, when the streets "
    "are still dark and quiet, and she bakes bread, rolls and small apple cakes for the morning customers. "
    "Her brother helps her on the weekends, and together they carry the warm trays to the shop window. "
    "People from all over the town come to buy her bread, and many of them stop to talk about their day. "
    "She says that the best part of her work is the smell of the kitchen and the smiles of the customers.",
]
GIBBERISH = "qzx vvlk ptrr wmmq zzkt xqpl " * 40
SPAM = "Buy cheap watches now at the best price online today!\n" * 40


def _inputs(tmp_path, docs):
    collect = tmp_path / "collect"
    with ShardWriter(collect / "datasets" / "pretrain", docs_per_shard=3) as w:
        for i, text in enumerate(docs):
            w.write({"id": f"d{i}", "text": text, "metadata": {"source": "t"}})
    return {"collect": collect}


def _run(tmp_path, cfg, docs):
    out = tmp_path / "out"
    out.mkdir()
    res = filt.run(cfg, _inputs(tmp_path, docs), out, _ctx(tmp_path))
    return res, {d["id"]: d for d in read_docs(out / "shards")}, out


def _ctx(tmp_path):
    from zerollm.stage import StageContext

    return StageContext(workdir=tmp_path, log=logging.getLogger("t"))


def test_keeps_good_english_and_chinese_drops_junk(tmp_path):
    docs = EN + ZH + [GIBBERISH, SPAM]
    res, kept, out = _run(tmp_path, FilterConfig(workers=1), docs)
    ids = set(kept)
    assert {"d0", "d1", "d2", "d3", "d4"} <= ids, res.metrics
    assert "d5" not in ids and "d6" not in ids
    assert kept["d2"]["metadata"]["language"] == "zh" and kept["d0"]["metadata"]["language"] == "en"
    m = res.metrics
    assert m["docs_in"] == 7 and m["docs_out"] == len(ids) and m["dropped"] == 2
    reasons = {k for k in m if k.startswith("dropped_")}
    assert reasons, m
    examples = read_jsonl(out / "dropped_examples.jsonl")
    assert {e["id"] for e in examples} == {"d5", "d6"}
    # nothing is lost: every dropped doc is kept whole under dropped/
    dropped = [d for d in read_docs_dir(out / "dropped")]
    assert sorted(d["id"] for d in dropped) == ["d5", "d6"]


def read_docs_dir(root):
    for step in sorted(p for p in root.iterdir() if p.is_dir()):
        yield from read_docs(step)


def test_english_word_rules_would_wipe_out_chinese(tmp_path):
    """The same Gopher quality step with English settings applied to zh drops every Chinese doc."""
    naive = FilterConfig(workers=1, gopher_quality={"languages": ["en", "zh"], "per_language": {}})
    res, kept, _ = _run(tmp_path, naive, ZH)
    assert kept == {} and res.metrics["dropped"] == 3


def test_disabled_passes_everything(tmp_path):
    res, kept, _ = _run(tmp_path, FilterConfig(enabled=False), EN + [GIBBERISH])
    assert len(kept) == 3 and res.metrics["dropped"] == 0


def test_bad_step_params_name_the_key(tmp_path):
    cfg = FilterConfig(workers=1, c4_quality={"params": {"no_such_arg": 1}})
    with pytest.raises(ValueError, match=r"filter.c4_quality.params: .*no_such_arg"):
        _run(tmp_path, cfg, EN)


def test_language_not_kept_is_dropped(tmp_path):
    cfg = FilterConfig(workers=1, langid={"keep": ["en"]})
    res, kept, _ = _run(tmp_path, cfg, EN + ZH[:1])
    assert set(kept) == {"d0", "d1"} and res.metrics["dropped_language"] == 1


@pytest.mark.parametrize("language", ["en", "zh"])
def test_synthetic_world_clean_docs_survive_and_dirt_goes(tmp_path, language):
    from zerollm.collect.synthetic import SyntheticConfig, generate

    data = generate(SyntheticConfig(language=language, target_mb=0.12, seed=3))
    kinds = {t["id"]: t["kind"] for t in data.truth}
    collect = tmp_path / "collect"
    with ShardWriter(collect / "datasets" / "pretrain", docs_per_shard=100) as w:
        for d in data.docs:
            w.write({**d, "metadata": {"source": "synthetic"}})
    out = tmp_path / "out"
    out.mkdir()
    filt.run(FilterConfig(workers=1), {"collect": collect}, out, _ctx(tmp_path))
    kept = {d["id"] for d in read_docs(out / "shards")}
    clean = [i for i, k in kinds.items() if k == "clean"]
    junk = [i for i, k in kinds.items() if k in ("gibberish", "spam", "boilerplate", "short")]
    assert len(set(clean) & kept) / len(clean) >= 0.95
    assert len(set(junk) & kept) / len(junk) <= 0.1


def test_regex_word_tokenizer_needs_no_spacy_and_still_drops_junk(tmp_path, monkeypatch):
    """`filter.word_tokenizer: regex` is for machines without spaCy (the GPU box): spaCy must not be
    imported, and the quality rules still keep prose and drop junk."""
    import sys

    monkeypatch.setitem(sys.modules, "spacy", None)  # any `import spacy` now fails
    cfg = FilterConfig(word_tokenizer="regex", workers=1)
    res, kept, _ = _run(tmp_path, cfg, EN + ZH + [GIBBERISH, SPAM])
    assert {"d0", "d1"} <= set(kept) and "d5" not in kept and "d6" not in kept
    assert res.metrics["dropped"] >= 2
