"""The sft stage through its real code: TRL SFTTrainer on the tiny base model."""

import json
import logging

import pytest

from tests.conftest import tiny_config
from zerollm.stage import StageContext


def _ctx(tmp_path, scratch, **kw):
    return StageContext(workdir=tmp_path, log=logging.getLogger("test.sft"), scratch=scratch, **kw)


def _inputs(chat_base):
    return {"pretrain": chat_base["pretrain"], "collect": chat_base["collect"]}


def test_loss_is_on_assistant_tokens_only(chat_base):
    """Labels cover each assistant reply and its <|im_end|>, never the user's turn or the markers."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from zerollm import finetune

    model, tok = finetune.load_model(chat_base["pretrain"] / "model")
    chat = [{"role": "user", "content": "Where does Mira live?"}, {"role": "assistant", "content": "In Oakford."}]
    args = SFTConfig(**finetune.trainer_args(tiny_config().sft, "/tmp/unused-sft", max_length=64,
                                             assistant_only_loss=True))
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list([{"messages": chat}]),
                         processing_class=tok)
    row = trainer.train_dataset[0]
    trained = [t for t, lab in zip(row["input_ids"], row["labels"]) if lab != -100]
    assert tok.decode(trained) == "In Oakford.<|im_end|>"


def test_sft_stage_writes_a_chat_model_with_probe(chat_base, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from zerollm.sft.stage import run

    cfg = tiny_config().sft
    seen = []
    out = tmp_path / "out"
    out.mkdir()
    res = run(cfg, _inputs(chat_base), out, _ctx(tmp_path, tmp_path / "scratch",
                                                  log_metrics=lambda m, step=None: seen.append((step, m))))
    m = res.metrics
    assert m["steps"] == 4 and m["resumed_from_step"] == 0 and m["rows"] > 0
    assert m["tokens_per_s"] > 0 and m["flops_per_token"] > 0 and "mfu" not in m  # no MFU without a GPU peak
    assert any("tokens_per_s" in row for _, row in seen)  # streamed per logged step too
    for k in ("qa_mc_accuracy", "qa_mc_chance", "qa_exact_match", "qa_exact_match_seen"):
        assert k in m
    assert [s for s, _ in seen if "loss" in _] == [1, 2, 3, 4]  # one point per step, streamed by step
    model_dir = out / "model"
    assert (model_dir / "model.safetensors").is_file() and not list(model_dir.glob("*.bin"))
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    gen = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert gen.shape[1] > ids["input_ids"].shape[1]
    assert tok.convert_tokens_to_ids("<|im_end|>") in model.generation_config.eos_token_id
    rows = [json.loads(line) for line in (out / "probe.jsonl").read_text().splitlines()]
    assert {"answer_pretrain", "answer_sft", "gold", "question"} <= set(rows[0])
    assert not torch.equal(model.model.embed_tokens.weight,
                           AutoModelForCausalLM.from_pretrained(chat_base["pretrain"] / "model").model.embed_tokens.weight)


def test_killed_sft_resumes_from_its_checkpoint(chat_base, tmp_path):
    from zerollm.sft.stage import run

    cfg = tiny_config().sft
    scratch = tmp_path / "scratch"

    def die_at_3(m, step=None):
        if step == 3 and "loss" in m:
            raise KeyboardInterrupt("killed")

    out = tmp_path / "a"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        run(cfg, _inputs(chat_base), out, _ctx(tmp_path, scratch, log_metrics=die_at_3))
    assert (scratch / "checkpoint-2").is_dir()
    out = tmp_path / "b"
    out.mkdir()
    seen = []
    m = run(cfg, _inputs(chat_base), out, _ctx(tmp_path, scratch,
                                               log_metrics=lambda m, step=None: seen.append((step, m)))).metrics
    assert m["resumed_from_step"] == 2 and m["steps"] == 4
    # the resumed run's MLflow curve is whole: steps before the checkpoint are replayed from its history
    assert [s for s, x in seen if "loss" in x] == [1, 2, 3, 4]
    assert m["train_loss"] > 0 and "final_mean_token_accuracy" in m


def test_lora_is_merged_into_a_plain_model(chat_base, tmp_path):
    from zerollm.sft.stage import run

    cfg = tiny_config("sft.lora.enabled=true", "sft.lora.r=4", "sft.max_steps=2", "sft.probe.enabled=false").sft
    out = tmp_path / "out"
    out.mkdir()
    run(cfg, _inputs(chat_base), out, _ctx(tmp_path, tmp_path / "scratch"))
    files = {p.name for p in (out / "model").iterdir()}
    assert "model.safetensors" in files and "adapter_config.json" not in files
    from safetensors.torch import load_file

    assert not any("lora" in k for k in load_file(out / "model" / "model.safetensors"))


def test_empty_sft_set_is_a_clear_error(chat_base, tmp_path):
    from zerollm.sft.stage import SftDataError, run

    collect = tmp_path / "collect"
    (collect / "datasets").mkdir(parents=True)
    (collect / "datasets" / "sft.jsonl").write_text("")
    with pytest.raises(SftDataError, match="SFT set is empty"):
        run(tiny_config().sft, {"pretrain": chat_base["pretrain"], "collect": collect}, tmp_path,
            _ctx(tmp_path, tmp_path / "s"))
