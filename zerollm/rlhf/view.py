"""How the run report shows rlhf: its curves, and the reward model's when rm+rloo trained one."""

CURVES = {
    "train_log.jsonl": [("rlhf loss", ["loss"]),
                        ("rlhf rewards", ["rewards/chosen", "rewards/rejected", "rewards/margins", "reward",
                                          "reward_std"]),
                        ("rlhf KL", ["kl", "objective/kl"]), ("rlhf preference accuracy", ["rewards/accuracies"])],
    "train_log_rm.jsonl": [("reward model loss", ["loss"]), ("reward model accuracy", ["accuracy"])],
}
