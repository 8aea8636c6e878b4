"""rlhf stage: DPO, GRPO on verifiable rewards, or a reward model + RLOO, on the SFT model.

PPO is not offered: TRL removed PPOTrainer. RLOO and GRPO are its stand-ins: both are policy-gradient
RL against a reward with a KL penalty to the SFT model, but they take the baseline from the other
samples of the same prompt instead of a learned value model, so there is no critic to train.

RL prompts and on-policy pairs come from collect's `prompts` set, which holds training facts only;
the eval items are never sampled here.
"""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path

from zerollm import finetune
from zerollm.io.shards import read_jsonl, write_jsonl
from zerollm.probe import probe_checkpoint
from zerollm.rlhf.config import RlhfConfig
from zerollm.rlhf.rewards import make_format_reward, onpolicy_pairs, sample_answers, verifier_reward
from zerollm.stage import Stage, StageContext, StageResult

Config = RlhfConfig
RL_DEFAULT_STEPS = 40


class RlhfDataError(ValueError):
    pass


def check(cfg: RlhfConfig, pipeline, ctx: StageContext) -> list[str]:
    """The set the chosen method learns from must not be empty by config."""
    kind = "preference" if cfg.method == "dpo" else "prompts"
    if getattr(pipeline.collect, kind) == []:
        return [f"collect.{kind}: empty, but rlhf.method={cfg.method} learns from it; allowed: a list of dataset "
                "sources, or unset (the synthetic world's)"]
    return []


def run(cfg: RlhfConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    finetune.quiet_hub()
    collect, sft_model = inputs["collect"], inputs["sft"] / "model"
    work = ctx.scratch or out_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    method = {"dpo": _dpo, "grpo": _grpo, "rm+rloo": _rm_rloo}[cfg.method]
    policy, tok, metrics = method(cfg, collect, sft_model, work, out_dir, ctx)
    model_dir = finetune.save_model(policy, tok, sft_model, out_dir / "model")
    del policy
    metrics.update(probe_checkpoint(model_dir, collect, cfg.probe, "rlhf", out_dir, ctx.log,
                                    cuda=finetune.use_cuda(cfg), upstream=inputs["sft"]))
    ctx.log.info("rlhf (%s): %s", cfg.method, ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    artifacts = [a for a in ("probe.jsonl", "model/config.json", "onpolicy_pairs.jsonl", "train_log.jsonl",
                                "train_log_rm.jsonl") if (out_dir / a).exists()]
    return StageResult(metrics=metrics, artifacts=artifacts, summary={"model": "model", "method": cfg.method})


def _last(stream, names: dict[str, str]) -> dict[str, float]:
    return {ours: stream.last[theirs] for ours, theirs in names.items() if theirs in stream.last}


def _prompts(collect: Path, need_answer: bool, limit: int = 0) -> list[dict]:
    """RL prompts (training facts only); with an `answer` when a verifier scores them."""
    rows = [r for r in read_jsonl(collect / "datasets" / "prompts.jsonl") if r.get("answer") or not need_answer]
    return rows[:limit] if limit else rows


def _rl_prompts(cfg: RlhfConfig, collect: Path, need_answer: bool) -> list[dict]:
    rows = _prompts(collect, need_answer, cfg.max_prompts)
    if not rows:
        what = "RL prompts with an `answer`" if need_answer else "RL prompts"
        raise RlhfDataError(f"rlhf.method={cfg.method}: no {what} in collect's prompts set; set collect.prompts "
                            "or use a synthetic source")
    return rows


def _preference(collect: Path) -> list[dict]:
    rows = read_jsonl(collect / "datasets" / "preference.jsonl")
    return [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]


# ---- dpo -----------------------------------------------------------------------------------------

def _dpo(cfg: RlhfConfig, collect: Path, sft_model: Path, work: Path, out_dir: Path, ctx: StageContext):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    model, tok = finetune.load_model(sft_model)
    pairs = _preference(collect)
    metrics: dict[str, float] = {"preference_pairs": float(len(pairs))}
    if cfg.onpolicy.enabled and cfg.onpolicy.prompts:
        extra, stats = _onpolicy(cfg, collect, model, tok, work, ctx)
        pairs += extra
        metrics.update(stats)
        write_jsonl(out_dir / "onpolicy_pairs.jsonl", extra)
    if not pairs:
        raise RlhfDataError("rlhf.method=dpo: no preference pairs (collect's preference set is empty and no "
                            "on-policy pair was found)")
    random.Random(cfg.seed).shuffle(pairs)
    args = DPOConfig(**finetune.trainer_args(
        cfg, work / "policy", num_train_epochs=cfg.epochs, max_steps=cfg.max_steps or -1, beta=cfg.beta,
        max_length=cfg.max_length,
        **({"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, cfg.sft_weight]} if cfg.sft_weight else {})))
    stream = finetune.metrics_callback(ctx)
    speed = finetune.throughput_callback(model, cfg.max_length, finetune.device_of(cfg))
    trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=args, train_dataset=Dataset.from_list(pairs),
                         processing_class=tok, callbacks=[speed, stream])
    metrics.update(finetune.fit(trainer, work / "policy", ctx, stream, out_dir / "train_log.jsonl"))
    metrics.update(speed.summary())
    metrics.update(_last(stream, {"reward_accuracy": "rewards/accuracies", "reward_margin": "rewards/margins",
                                  "reward_chosen": "rewards/chosen", "reward_rejected": "rewards/rejected"}))
    return trainer.model, tok, metrics


def _onpolicy(cfg: RlhfConfig, collect: Path, model, tok, work: Path, ctx: StageContext):
    """Sampled once and kept in scratch, so a resumed run trains on the same pairs."""
    cached = work / "onpolicy_pairs.jsonl"
    stats_file = work / "onpolicy_stats.jsonl"
    if cached.is_file() and stats_file.is_file():
        return read_jsonl(cached), read_jsonl(stats_file)[0]
    rows = _prompts(collect, need_answer=True, limit=cfg.onpolicy.prompts)
    if not rows:
        ctx.log.warning("rlhf: no RL prompts with a verifiable `answer`; DPO runs on the preference set alone")
        return [], {"onpolicy_prompts": 0.0, "onpolicy_pairs": 0.0}
    if finetune.use_cuda(cfg):
        model.cuda()
    replies = sample_answers(model, tok, [r["prompt"] for r in rows], cfg.onpolicy.samples,
                             cfg.onpolicy.temperature, cfg.onpolicy.max_new_tokens, finetune.stop_token_ids(tok),
                             seed=cfg.seed)
    pairs, stats = onpolicy_pairs(rows, replies, cfg.onpolicy.pairs_per_prompt)
    ctx.log.info("rlhf: %d on-policy pairs from %d prompts (sample accuracy %.2f)", len(pairs), len(rows),
                 stats["onpolicy_sample_accuracy"])
    write_jsonl(cached, pairs)
    write_jsonl(stats_file, [stats])
    return pairs, stats


# ---- grpo ----------------------------------------------------------------------------------------

def _rl_config(cls, cfg: RlhfConfig, work: Path):
    if (cfg.micro_batch * cfg.grad_accum) % cfg.num_generations:
        raise ValueError(f"rlhf.micro_batch × rlhf.grad_accum ({cfg.micro_batch * cfg.grad_accum}) must be a "
                         f"multiple of rlhf.num_generations ({cfg.num_generations})")
    return cls(**finetune.trainer_args(
        cfg, work, max_steps=cfg.max_steps or RL_DEFAULT_STEPS, beta=cfg.beta, num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length, temperature=cfg.temperature))


_RL_METRICS = {"reward_mean": "reward", "reward_std": "reward_std", "kl": "kl",
               "completion_length": "completions/mean_length"}


def _grpo(cfg: RlhfConfig, collect: Path, sft_model: Path, work: Path, out_dir: Path, ctx: StageContext):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model, tok = finetune.load_model(sft_model)  # from disk: with beta > 0 TRL reloads it as the reference
    rows = _rl_prompts(cfg, collect, need_answer=True)
    data = Dataset.from_list([{"prompt": r["prompt"], "answer": r["answer"]} for r in rows])
    args = _rl_config(GRPOConfig, cfg, work / "policy")
    args.reward_weights = [1.0, cfg.format_weight]
    stream = finetune.metrics_callback(ctx)
    speed = finetune.throughput_callback(model, cfg.max_length, finetune.device_of(cfg))
    trainer = GRPOTrainer(model=model, reward_funcs=[verifier_reward, make_format_reward(finetune.stop_token_ids(tok))],
                          args=args, train_dataset=data, processing_class=tok, callbacks=[speed, stream])
    fitted = finetune.fit(trainer, work / "policy", ctx, stream, out_dir / "train_log.jsonl")
    metrics = {"rl_prompts": float(len(rows)), **fitted, **speed.summary()}
    metrics.update(_last(stream, {**_RL_METRICS, "verifier_reward": "rewards/verifier_reward/mean",
                                  "format_reward": "rewards/format_reward/mean"}))
    return trainer.model, tok, metrics


# ---- reward model + rloo -------------------------------------------------------------------------

def _rm_rloo(cfg: RlhfConfig, collect: Path, sft_model: Path, work: Path, out_dir: Path, ctx: StageContext):
    from datasets import Dataset
    from trl import RLOOConfig, RLOOTrainer

    rm_dir, metrics = _reward_model(cfg, collect, sft_model, work, out_dir, ctx)
    reward_model, rm_tok = finetune.load_model(rm_dir, cls=_seq_cls(), num_labels=1)
    model, tok = finetune.load_model(sft_model)
    rows = _rl_prompts(cfg, collect, need_answer=False)
    args = _rl_config(RLOOConfig, cfg, work / "policy")
    stream = finetune.metrics_callback(ctx)
    speed = finetune.throughput_callback(model, cfg.max_length, finetune.device_of(cfg))
    trainer = RLOOTrainer(model=model, reward_funcs=[reward_model], reward_processing_classes=[rm_tok], args=args,
                          train_dataset=Dataset.from_list([{"prompt": r["prompt"]} for r in rows]),
                          processing_class=tok, callbacks=[speed, stream])
    fitted = finetune.fit(trainer, work / "policy", ctx, stream, out_dir / "train_log.jsonl")
    metrics.update({"rl_prompts": float(len(rows)), **fitted, **speed.summary()})
    metrics.update(_last(stream, _RL_METRICS))
    return trainer.model, tok, metrics


def _seq_cls():
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification


def _reward_model(cfg: RlhfConfig, collect: Path, sft_model: Path, work: Path, out_dir: Path, ctx: StageContext):
    """The SFT model with a scalar head, trained on preference pairs; pairwise accuracy on held-out
    pairs before and after training says whether it learned to prefer the right answers."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    s = cfg.reward_model
    done, report = work / "reward_model", work / "reward_model.json"
    if report.is_file() and (done / "model.safetensors").is_file():  # trained before a kill in the RL phase
        ctx.log.warning("rlhf: reusing the reward model trained in %s", done)
        shutil.copytree(done, out_dir / "reward_model", dirs_exist_ok=True)
        return done, read_jsonl(report)[0]  # written atomically, after the model
    pairs = _preference(collect)
    if len(pairs) < 4:
        raise RlhfDataError(f"rlhf.method=rm+rloo: {len(pairs)} preference pairs; the reward model needs at least 4")
    random.Random(s.seed).shuffle(pairs)
    n_eval = max(1, int(len(pairs) * s.eval_frac))
    held, train = Dataset.from_list(pairs[:n_eval]), Dataset.from_list(pairs[n_eval:])
    from transformers import set_seed

    set_seed(s.seed)  # the new score head's init
    model, tok = finetune.load_model(sft_model, cls=_seq_cls(), num_labels=1)  # a new, untrained score head
    model.config.pad_token_id = tok.pad_token_id
    args = RewardConfig(**finetune.trainer_args(s, work / "rm", num_train_epochs=s.epochs, max_length=s.max_length))
    stream = finetune.metrics_callback(ctx, prefix="rm/")
    trainer = RewardTrainer(model=model, args=args, train_dataset=train, processing_class=tok, callbacks=[stream])

    def heldout_accuracy() -> dict:
        ev = trainer.evaluate(held)
        if "eval_accuracy" not in ev:  # TRL drops pairs over max_length: none of the held-out ones was left
            raise RlhfDataError("rlhf.reward_model: every held-out pair is longer than reward_model.max_length="
                                f"{s.max_length}; raise it or use shorter pairs")
        return ev

    metrics = {"rm_pairs_train": float(len(train)), "rm_pairs_heldout": float(len(held)),
               "rm_heldout_accuracy_before": float(heldout_accuracy()["eval_accuracy"])}
    fitted = finetune.fit(trainer, work / "rm", ctx, stream, out_dir / "train_log_rm.jsonl")
    metrics.update({f"rm_{k}": v for k, v in fitted.items()})
    ev = heldout_accuracy()
    metrics["rm_heldout_accuracy"] = float(ev["eval_accuracy"])
    metrics["rm_heldout_margin"] = float(ev.get("eval_margin", 0.0))
    ctx.log.info("rlhf: reward model held-out pairwise accuracy %.3f (before training %.3f)",
                 metrics["rm_heldout_accuracy"], metrics["rm_heldout_accuracy_before"])
    finetune.save_model(trainer.model, tok, sft_model, done)
    write_jsonl(report, [metrics])
    shutil.copytree(done, out_dir / "reward_model", dirs_exist_ok=True)
    return done, metrics


STAGE = Stage(
    name="rlhf", config=RlhfConfig, run=run, check=check, inputs=("sft", "collect"), produces_model=True, system_metrics=True,
    reads="sft: model/; collect: preference set, RL prompts (training facts), eval set for the probe",
    writes="model/ (chat model), probe.jsonl (answers after pretrain, sft, rlhf), reward_model/ (rm+rloo)",
    view="zerollm.rlhf.view",
)
