"""sft stage: TRL SFTTrainer on the pretrain checkpoint, loss on assistant tokens only.

The tokenizer's ChatML template marks each assistant reply and its closing <|im_end|> with
{% generation %}, so the model learns to answer and to end its turn, never to write user turns.
"""

from __future__ import annotations

from pathlib import Path

from zerollm import finetune
from zerollm.io.shards import read_jsonl
from zerollm.probe import probe_checkpoint
from zerollm.sft.config import SftConfig
from zerollm.stage import Stage, StageContext, StageResult

Config = SftConfig
class SftDataError(ValueError):
    pass


def check(cfg: SftConfig, pipeline, ctx: StageContext) -> list[str]:
    """An SFT set that is empty by config fails here, not after pretraining."""
    if pipeline.collect.sft == []:
        return ["collect.sft: empty, but the sft stage trains on it; allowed: a list of dataset sources, or unset "
                "(the synthetic world's chats)"]
    return []


def run(cfg: SftConfig, inputs: dict[str, Path], out_dir: Path, ctx: StageContext) -> StageResult:
    finetune.quiet_hub()
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    collect, base = inputs["collect"], inputs["pretrain"] / "model"
    rows = read_jsonl(collect / "datasets" / "sft.jsonl")
    if cfg.max_rows:
        rows = rows[: cfg.max_rows]
    if not rows:
        raise SftDataError("sft: the SFT set is empty (collect datasets/sft.jsonl); set collect.sft or use a "
                           "synthetic source")
    model, tok = finetune.load_model(base)
    context = model.config.max_position_embeddings
    if cfg.max_length > context:
        raise SftDataError(f"sft.max_length: {cfg.max_length} is longer than the model's context ({context})")
    train = Dataset.from_list([{"messages": r["messages"]} for r in rows])

    work = ctx.scratch or out_dir / "work"
    args = SFTConfig(**finetune.trainer_args(
        cfg, work, num_train_epochs=cfg.epochs, max_steps=cfg.max_steps or -1, max_length=cfg.max_length,
        packing=cfg.packing, assistant_only_loss=True, dataset_num_proc=None))
    peft_config = None
    if cfg.lora.enabled:
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                 target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")
    stream = finetune.metrics_callback(ctx)
    speed = finetune.throughput_callback(model, cfg.max_length, finetune.device_of(cfg))
    trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tok,
                         callbacks=[speed, stream], peft_config=peft_config)
    fit = finetune.fit(trainer, work, ctx, stream, out_dir / "train_log.jsonl")

    trained = trainer.model
    if cfg.lora.enabled:
        trained = trained.merge_and_unload()  # one plain model for rlhf and the GGUF export
    model_dir = finetune.save_model(trained, tok, base, out_dir / "model")
    del trainer, trained, model

    metrics = {**fit, **speed.summary(), "rows": float(len(rows))}
    for k in ("mean_token_accuracy", "entropy"):
        if k in stream.last:
            metrics[f"final_{k}"] = stream.last[k]
    metrics.update(probe_checkpoint(model_dir, collect, cfg.probe, "sft", out_dir, ctx.log,
                                    cuda=finetune.use_cuda(cfg), upstream=inputs["pretrain"]))
    ctx.log.info("sft: %s", ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    artifacts = [a for a in ("probe.jsonl", "model/config.json", "train_log.jsonl") if (out_dir / a).exists()]
    return StageResult(metrics=metrics, artifacts=artifacts, summary={"model": "model"})


STAGE = Stage(
    name="sft", config=SftConfig, run=run, check=check, inputs=("pretrain", "collect"), produces_model=True, system_metrics=True,
    reads="pretrain: model/; collect: sft set, eval set for the probe",
    writes="model/ (chat model: safetensors + tokenizer with ChatML template), probe.jsonl",
    view="zerollm.sft.view",
)
