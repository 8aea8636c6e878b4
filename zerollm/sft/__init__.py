"""sft: supervised chat fine-tuning of the base model with TRL's SFTTrainer."""
