"""The rlhf stage through its real code, every method for a few steps on CPU, and its rewards."""

import json
import logging

import pytest

from tests.conftest import tiny_config
from zerollm.rlhf.rewards import make_format_reward, onpolicy_pairs, repeated_fraction, verifier_reward
from zerollm.stage import StageContext


def _run(chat_base, tmp_path, *overrides):
    from zerollm.rlhf.stage import run

    cfg = tiny_config(*overrides).rlhf
    out = tmp_path / "out"
    out.mkdir()
    seen = []
    ctx = StageContext(workdir=tmp_path, log=logging.getLogger("test.rlhf"), scratch=tmp_path / "scratch",
                       log_metrics=lambda m, step=None: seen.append((step, m)))
    res = run(cfg, {"sft": chat_base["sft"], "collect": chat_base["collect"]}, out, ctx)
    return res.metrics, out, [m for _, m in seen]


def _check_model_and_probe(m, out):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert {"qa_mc_accuracy", "qa_exact_match", "qa_exact_match_seen"} <= set(m)
    model = AutoModelForCausalLM.from_pretrained(out / "model")
    tok = AutoTokenizer.from_pretrained(out / "model")
    ids = tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    assert model.generate(**ids, max_new_tokens=3, do_sample=False).shape[1] > ids["input_ids"].shape[1]
    row = json.loads((out / "probe.jsonl").read_text().splitlines()[0])
    assert {"answer_pretrain", "answer_sft", "answer_rlhf"} <= set(row)


def test_dpo_with_on_policy_pairs(chat_base, tmp_path):
    m, out, streamed = _run(chat_base, tmp_path, "rlhf.method=dpo")
    assert m["steps"] == 2 and m["preference_pairs"] > 0 and m["onpolicy_prompts"] == 8
    assert 0 <= m["onpolicy_sample_accuracy"] <= 1 and "reward_accuracy" in m and "reward_margin" in m
    assert any("rewards/margins" in s for s in streamed)
    for pair in map(json.loads, (out / "onpolicy_pairs.jsonl").read_text().splitlines()):
        assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]
    _check_model_and_probe(m, out)


def test_grpo_on_verifiable_rewards(chat_base, tmp_path):
    m, out, streamed = _run(chat_base, tmp_path, "rlhf.method=grpo")
    assert m["steps"] == 2 and m["rl_prompts"] > 0
    assert "reward_mean" in m and "reward_std" in m and "kl" in m
    assert any("rewards/verifier_reward/mean" in s and "rewards/format_reward/mean" in s for s in streamed)
    _check_model_and_probe(m, out)


def test_reward_model_then_rloo(chat_base, tmp_path):
    m, out, streamed = _run(chat_base, tmp_path, "rlhf.method=rm+rloo")
    assert m["rm_steps"] >= 1 and 0 <= m["rm_heldout_accuracy"] <= 1 and m["rm_pairs_heldout"] >= 1
    assert m["steps"] == 2 and "reward_mean" in m and "kl" in m
    assert any(k.startswith("rm/") for s in streamed for k in s)
    assert (out / "reward_model" / "model.safetensors").is_file()
    from transformers import AutoModelForSequenceClassification

    rm = AutoModelForSequenceClassification.from_pretrained(out / "reward_model")
    assert rm.config.num_labels == 1
    _check_model_and_probe(m, out)


def test_rl_batch_must_hold_whole_groups(chat_base, tmp_path):
    with pytest.raises(ValueError, match=r"rlhf.micro_batch .* multiple of rlhf.num_generations"):
        _run(chat_base, tmp_path, "rlhf.method=grpo", "rlhf.micro_batch=3", "rlhf.num_generations=2")


def test_verifier_and_format_rewards():
    done = [{"role": "assistant", "content": "Mira lives in Oakford."}]
    rambling = [{"role": "assistant", "content": "in in in in in in in in"}]
    assert verifier_reward([done, rambling], answer=["Oakford", "Oakford"]) == [1.0, 0.0]
    # a Chinese reply states a number beside a character: right answers must not be judged wrong
    assert verifier_reward(["好的。宋天佑已经65岁了。", "宋天佑已经165岁了。"], answer=["65", "65"]) == [1.0, 0.0]
    fmt = make_format_reward([7])
    r = fmt([done, done, rambling], completion_ids=[[1, 2, 7], [1, 2, 3], [4, 4, 7]])
    assert r[0] == 1.0 and r[1] == 0.0 and r[2] < 0.5
    assert repeated_fraction("a b c a b c") == pytest.approx(0.25) and repeated_fraction("a b") == 0.0


def test_onpolicy_pairs_pair_a_right_with_a_wrong_answer():
    rows = [{"prompt": [{"role": "user", "content": "Where?"}], "answer": "Oakford"},
            {"prompt": [{"role": "user", "content": "Who?"}], "answer": "Mira"},
            {"prompt": [{"role": "user", "content": "When?"}], "answer": "1921"}]
    replies = [[("In Oakford.", True), ("In Elm.", True)],
               [("Mira.", True), ("Mira!", True)],
               [("It opened in 1921 and", False), ("Never.", True)]]  # the right one was cut off
    pairs, stats = onpolicy_pairs(rows, replies)
    assert len(pairs) == 1 and pairs[0]["chosen"][0]["content"] == "In Oakford."
    assert pairs[0]["rejected"][0]["content"] == "In Elm."
    assert stats["onpolicy_sample_accuracy"] == pytest.approx(4 / 6)


def test_onpolicy_pairs_use_each_distinct_answer_once():
    rows = [{"prompt": [{"role": "user", "content": "Where?"}], "answer": "Oakford"}]
    replies = [[("In Oakford.", True), ("Oakford!", True), ("In Oakford.", True), ("In Elm.", True),
                ("In Elm.", True), ("In Ash.", True), ("In Fir.", True)]]
    pairs, _ = onpolicy_pairs(rows, replies, per_prompt=3)
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs] == [
        ("In Oakford.", "In Elm."), ("Oakford!", "In Ash.")]  # two distinct right answers: two pairs
    assert len(onpolicy_pairs(rows, replies, per_prompt=1)[0]) == 1


def test_resume_point_skips_a_checkpoint_cut_off_mid_save(tmp_path):
    from zerollm.finetune import resume_point

    assert resume_point(tmp_path / "none") == (None, 0)
    for step, complete in ((2, True), (4, True), (6, False)):
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        (d / "model.safetensors").write_bytes(b"x")
        if complete:
            (d / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    assert resume_point(tmp_path) == (str(tmp_path / "checkpoint-4"), 4)
    assert not (tmp_path / "checkpoint-6").exists()


def test_bad_rlhf_config_names_the_key():
    from zerollm.config import ConfigError, load_config
    from zerollm.pipeline_config import PipelineConfig

    with pytest.raises(ConfigError, match=r"rlhf.method: Input should be 'dpo', 'grpo' or 'rm\+rloo'"):
        load_config(PipelineConfig, None, ["rlhf.method=ppo"])
    with pytest.raises(ConfigError, match=r"rlhf.beta must be > 0 with rlhf.method=dpo"):
        load_config(PipelineConfig, None, ["rlhf.beta=0"])
