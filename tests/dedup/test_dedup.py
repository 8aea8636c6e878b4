import json

from tests.dedup.prose import distinct_paragraphs, plant, write_jsonl
from zerollm.config import load_config
from zerollm.dedup import stage as dedup
from zerollm.dedup.config import DedupConfig
from zerollm.dedup.scoring import score
from zerollm.io.shards import ShardWriter, read_docs
from zerollm.pipeline_config import PipelineConfig
from zerollm.runner import run_pipeline


def test_real_prose_with_planted_copies_until_dedup(tmp_path):
    paragraphs = distinct_paragraphs()
    assert len(paragraphs) > 200
    docs, pairs = plant(paragraphs, n_copies=200, max_edit=0.02)
    src = tmp_path / "prose.jsonl"
    write_jsonl(src, docs)
    cfg = load_config(PipelineConfig, None, [
        f"collect.sources=[{{type: jsonl, path: {src}, text_key: text, id_key: id}}]",
        "filter.enabled=false", "tracking.enabled=false"])
    outcomes = run_pipeline(cfg, tmp_path / "w", until="dedup")
    assert [o.stage for o in outcomes] == ["collect", "filter", "dedup"]
    assert outcomes[-1].dir.startswith("stages/dedup/")  # recorded relative to the workdir
    out = str(tmp_path / "w" / outcomes[-1].dir)
    kept = list(read_docs(f"{out}/shards"))
    kept_ids = {d["id"] for d in kept}
    assert kept_ids <= {d["id"] for d in docs}  # source ids carried through
    s = score(pairs, {d["id"] for d in docs}, kept_ids)
    assert s["f1"] >= 0.95, s
    assert s["groups_fully_removed"] == 0, s
    removed = [json.loads(l) for l in open(f"{out}/removed_ids.jsonl")]
    assert {r["reason"] for r in removed} == {"exact", "minhash"}
    assert len(removed) + len(kept) == len(docs)


def _fake_inputs(tmp_path, docs, eval_items):
    collect = tmp_path / "collect"
    (collect / "datasets").mkdir(parents=True)
    with open(collect / "datasets" / "eval.jsonl", "w") as f:
        for row in eval_items:
            f.write(json.dumps(row) + "\n")
    filt = tmp_path / "filter"
    with ShardWriter(filt / "shards") as w:
        for d in docs:
            w.write(d)
    return {"collect": collect, "filter": filt}


def test_decontamination_removes_docs_holding_eval_items(tmp_path, ctx):
    paragraphs = distinct_paragraphs()[:60]
    items = [{"id": f"q{i}", "question": q, "answer": a} for i, (q, a) in enumerate([
        ("What colour is the lantern that hangs above the harbour gate?", "It is deep green."),
        ("Which animal guards the orchard behind the old mill?", "A grey goose named Pim."),
    ])]
    docs = [{"id": f"p{i}", "text": t} for i, t in enumerate(paragraphs)]
    docs.append({"id": "leak", "text": "Weekly quiz, answers for the village school. " + items[0]["question"]
                 + " " + items[0]["answer"] + " Thanks for playing, see you next week."})
    # a doc on the same topic, different wording, must survive
    docs.append({"id": "paraphrase", "text": "Above the harbour gate hangs a lantern, and its colour is a deep "
                 "green that sailors can see from far away on a foggy night at sea."})
    out = tmp_path / "out"
    out.mkdir()
    res = dedup.run(DedupConfig(), _fake_inputs(tmp_path, docs, items), out, ctx)
    kept = {d["id"] for d in read_docs(out / "shards")}
    assert "leak" not in kept and "paraphrase" in kept
    assert res.metrics["decontam_removed"] == 1
    assert len(kept) == len(docs) - 1


def test_threshold_maps_to_lsh_shape_and_explicit_shape_wins():
    assert DedupConfig(threshold=0.7).lsh_shape() != DedupConfig(threshold=0.85).lsh_shape()
    b, r = DedupConfig(threshold=0.8).lsh_shape()
    assert b * r <= 128
    assert DedupConfig(num_buckets=14, hashes_per_bucket=8).lsh_shape() == (14, 8)


def test_chinese_near_copies_are_found(tmp_path, ctx):
    base = ["王小明住在北京的一个小院子里，每天早上他都会去公园散步，然后回家吃早饭。他最喜欢的食物是饺子，",
            "李华是一名医生，她在上海的医院工作了十年。她养了一只白色的小猫，名字叫雪球，雪球很喜欢晒太阳。",
            "长江是中国最长的河流，流经许多城市。春天的时候，河边开满了花，很多人来这里拍照和休息。"]
    docs = [{"id": f"z{i}", "text": t * 3} for i, t in enumerate(base)]
    docs.append({"id": "zcopy", "text": (base[0] * 3).replace("公园", "花园", 1)})
    out = tmp_path / "out"
    out.mkdir()
    dedup.run(DedupConfig(), _fake_inputs(tmp_path, docs, []), out, ctx)
    kept = {d["id"] for d in read_docs(out / "shards")}
    assert len(kept & {"z0", "zcopy"}) == 1 and {"z1", "z2"} <= kept


def test_decontamination_finds_items_far_from_the_median_length(tmp_path, ctx):
    short = [{"id": f"s{i}", "question": f"Who owns the {c} kite?", "answer": "Ann"}
             for i, c in enumerate(["red", "blue", "green", "amber", "white"])]
    long_item = {"id": "long", "question": "In the long winter of the year the river froze, which of the three "
                 "brothers who lived at the mill beside the old stone bridge carried the lantern across the ice "
                 "to fetch the doctor from the village on the far bank?", "answer": "The youngest"}
    paragraphs = distinct_paragraphs()[:20]
    docs = [{"id": f"p{i}", "text": t} for i, t in enumerate(paragraphs)]
    docs.append({"id": "leak_long", "text": "Old exam paper, question seven. " + long_item["question"]
                 + " Write your answer in the box below and show your reasoning."})
    docs.append({"id": "leak_short", "text": "Pub quiz sheet: " + short[2]["question"] + " Answer on the back."})
    out = tmp_path / "out"
    out.mkdir()
    dedup.run(DedupConfig(), _fake_inputs(tmp_path, docs, short + [long_item]), out, ctx)
    kept = {d["id"] for d in read_docs(out / "shards")}
    assert "leak_long" not in kept and "leak_short" not in kept
    assert {d["id"] for d in docs[:20]} <= kept
