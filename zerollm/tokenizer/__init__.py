"""tokenizer stage: a sentencepiece model trained on the deduplicated corpus, its Hugging Face export
(ChatML template), and the corpus as flat token shards (train.bin / val.bin) for pretraining.

sentencepiece does the training and the shard tokenization; the HF directory is a faithful
translation of the same model, checked id-for-id, so that training data and inference agree.
"""
