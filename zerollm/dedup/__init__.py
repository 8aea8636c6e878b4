"""dedup: exact + MinHash near-duplicate removal and eval decontamination."""
