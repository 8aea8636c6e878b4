"""sft: data, schedule, LoRA and the probe. Defaults are the CPU tiny recipe's."""

from __future__ import annotations

from pydantic import Field

from zerollm.config import StrictModel
from zerollm.finetune import TrainSettings
from zerollm.probe import ProbeConfig


class LoraSettings(StrictModel):
    enabled: bool = Field(False, description="Train LoRA adapters instead of all weights; merged into the output.")
    r: int = Field(16, ge=1, description="Adapter rank.")
    alpha: int = Field(32, ge=1, description="Adapter scaling (lora_alpha).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the adapter input.")
    target_modules: list[str] | str = Field(
        "all-linear", description="Modules to adapt: 'all-linear' or names such as [q_proj, v_proj].")


class SftConfig(TrainSettings):
    lr: float = Field(3e-4, gt=0, description="Peak learning rate (AdamW).")
    epochs: float = Field(8.0, gt=0, description="Passes over the SFT set (ignored when max_steps > 0).")
    max_steps: int = Field(0, ge=0, description="Optimizer steps; 0: run `epochs` passes.")
    max_length: int = Field(256, ge=8, description="Tokens per chat; longer chats are truncated (at most the "
                                                  "model's context).")
    packing: bool = Field(False, description="Pack several chats into one sequence (best-fit, no cross-attention).")
    max_rows: int = Field(0, ge=0, description="Use at most this many SFT rows (0: all).")
    lora: LoraSettings = Field(default_factory=LoraSettings, description="Optional LoRA instead of full fine-tuning.")
    probe: ProbeConfig = Field(default_factory=ProbeConfig, description="Held-out fact probe on the final model.")
