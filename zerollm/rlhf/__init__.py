"""rlhf: preference and reward optimisation of the SFT model with TRL (DPO, GRPO, reward model + RLOO)."""
