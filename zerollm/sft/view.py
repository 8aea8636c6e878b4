"""How the run report shows sft: its curves (log file -> panels of series)."""

CURVES = {"train_log.jsonl": [("sft loss", ["loss"]), ("sft token accuracy", ["mean_token_accuracy"])]}
