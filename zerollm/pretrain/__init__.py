"""pretrain: a Llama-architecture model from scratch on the tokenizer stage's token shards."""
