"""Model presets as transformers LlamaConfig: llama.cpp and GGUF support the architecture natively.

Widths are multiples of 256 where the size allows (llama.cpp's K-quants leave other widths in F16).
"""

from __future__ import annotations

from zerollm.pretrain.config import ModelShape, PretrainConfig

PRESETS: dict[str, ModelShape] = {
    # ~3.4M params with a 4k vocab: learns the synthetic world on 2 CPU cores in minutes
    "tiny": ModelShape(n_layer=4, d_model=256, n_head=4, ffn_dim=768),
    "20m": ModelShape(n_layer=6, d_model=512, n_head=8, ffn_dim=1536),
    # GPT-2 small class: 12 layers, 768 wide, 12 heads
    "124m": ModelShape(n_layer=12, d_model=768, n_head=12, ffn_dim=2048),
    "350m": ModelShape(n_layer=24, d_model=1024, n_head=16, ffn_dim=2816),
    "1b": ModelShape(n_layer=16, d_model=2048, n_head=32, n_kv_head=8, ffn_dim=8192),
}


def shape_of(cfg: PretrainConfig) -> ModelShape:
    return cfg.shape if cfg.preset == "custom" else PRESETS[cfg.preset]


def llama_config(cfg: PretrainConfig, vocab_size: int, bos_id: int, eos_id: int, pad_id: int):
    from transformers import LlamaConfig

    s = shape_of(cfg)
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=s.d_model, intermediate_size=s.ffn_dim, num_hidden_layers=s.n_layer,
        num_attention_heads=s.n_head, num_key_value_heads=s.n_kv_head or s.n_head,
        max_position_embeddings=cfg.seq_len, rope_theta=s.rope_theta, rms_norm_eps=1e-5,
        tie_word_embeddings=cfg.tie_embeddings, bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=pad_id,
        attention_bias=False, mlp_bias=False, hidden_act="silu", use_cache=True,
    )

