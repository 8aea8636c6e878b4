"""rlhf: the method and its knobs. Defaults are the CPU tiny recipe's (DPO)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from zerollm.config import StrictModel
from zerollm.finetune import TrainSettings
from zerollm.probe import ProbeConfig


class OnPolicyPairs(StrictModel):
    """DPO pairs sampled from the SFT model itself and judged by the world's verifier."""

    enabled: bool = Field(True, description="Add on-policy pairs (needs RL prompts with an `answer`).")
    prompts: int = Field(300, ge=0, description="RL prompts sampled at most.")
    samples: int = Field(4, ge=2, description="Answers sampled per prompt.")
    pairs_per_prompt: int = Field(1, ge=1, description="Pairs kept per prompt at most, each sampled answer in one "
                                                       "pair (distinct right answers against distinct wrong ones).")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature.")
    max_new_tokens: int = Field(40, ge=1, description="Tokens per sampled answer.")


class RewardModelSettings(TrainSettings):
    """The reward model of rm+rloo: the SFT model with a scalar head, trained on preference pairs."""

    lr: float = Field(1e-4, gt=0, description="Peak learning rate.")
    epochs: float = Field(2.0, gt=0, description="Passes over the training pairs.")
    eval_frac: float = Field(0.1, gt=0, lt=1, description="Pairs held out to measure pairwise accuracy.")
    max_length: int = Field(256, ge=8, description="Longer pairs are dropped by TRL's RewardTrainer.")


class RlhfConfig(TrainSettings):
    method: Literal["dpo", "grpo", "rm+rloo"] = Field(
        "dpo", description="dpo: preference pairs (+ on-policy pairs); grpo: verifiable rewards; "
                           "rm+rloo: a reward model, then RLOO against it. (No PPO: TRL removed it.)")
    lr: float = Field(2e-5, gt=0, description="Peak learning rate of the policy.")
    max_steps: int = Field(0, ge=0, description="Policy optimizer steps; 0: `epochs` passes (dpo) or 40 (grpo, rloo).")
    epochs: float = Field(1.0, gt=0, description="dpo: passes over the pairs (ignored when max_steps > 0).")
    beta: float = Field(0.1, ge=0, description="dpo: β of the DPO loss; grpo/rloo: KL coefficient to the SFT model.")
    max_length: int = Field(256, ge=8, description="dpo: prompt + answer tokens (truncated beyond).")
    sft_weight: float = Field(0.0, ge=0, description="dpo: weight of an NLL term on the chosen answers beside the "
                                                     "DPO loss (RPO); 0: plain DPO.")
    num_generations: int = Field(4, ge=2, description="grpo/rloo: answers sampled per prompt (the group).")
    max_completion_length: int = Field(40, ge=1, description="grpo/rloo: tokens per sampled answer.")
    temperature: float = Field(1.0, gt=0, description="grpo/rloo: sampling temperature.")
    max_prompts: int = Field(0, ge=0, description="grpo/rloo: RL prompts used at most (0: all).")
    format_weight: float = Field(0.5, ge=0, description="grpo: weight of the format reward beside the verifier's.")
    onpolicy: OnPolicyPairs = Field(default_factory=OnPolicyPairs, description="dpo: on-policy pairs.")
    reward_model: RewardModelSettings = Field(default_factory=RewardModelSettings,
                                              description="rm+rloo: the reward model's training.")
    probe: ProbeConfig = Field(default_factory=ProbeConfig, description="Held-out fact probe on the final model.")

    @model_validator(mode="after")
    def _dpo_needs_beta(self):
        if self.method == "dpo" and self.beta <= 0:
            raise ValueError("rlhf.beta must be > 0 with rlhf.method=dpo (the DPO loss scales by it)")
        return self
