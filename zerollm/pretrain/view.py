"""How the run report shows pretrain: its curves (log file -> panels of series)."""

CURVES = {"metrics.jsonl": [("pretrain loss", ["train_loss", "val_loss"]),
                            ("pretrain val bits per byte", ["val_bpb"])]}
