"""Causal attention with no materialized mask, so SDPA's flash/cuDNN kernels run their causal path.

Under torch.compile transformers builds an explicit [batch, 1, T, T] mask even for plain causal
attention (it cannot prove the mask is trivial while tracing), which forbids the flash backend and
makes the cuDNN kernel compute the masked half too. Packed pretraining has no padding, so when no
attention_mask is passed the mask is simply None and SDPA gets `is_causal=True`.
"""

from __future__ import annotations

NAME = "zerollm_causal"


def register() -> str:
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    def mask(*args, **kwargs):
        if kwargs.get("attention_mask") is None:
            return None
        return sdpa_mask(*args, **kwargs)

    AttentionInterface.register(NAME, sdpa_attention_forward)
    AttentionMaskInterface.register(NAME, mask)
    return NAME
