"""Hugging Face tokenizer directory built straight from the sentencepiece model.

Why not `LlamaTokenizer.from_pretrained`? In transformers 5 a model-specific class rebuilds its own
normalizer/pre-tokenizer and only borrows vocab and merges, and the SPM conversion path has changed
between releases. Writing `tokenizer.json` with the `tokenizers` library and naming the generic
`PreTrainedTokenizerFast` class makes every transformers version (4.56+, 5.x) load exactly this
pipeline: ' ' -> '▁', no pre-tokenizer, BPE (or Unigram) with byte fallback, nothing added around the
text. `tokenizer.model` is kept beside it for the GGUF export.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from zerollm.tokenizer.train import BOS, CHAT_TOKENS, EOS, PAD, ROLE_WORDS, SPECIAL_TOKENS, UNK, UNK_ID

# ChatML. The assistant's content and its closing <|im_end|> sit inside {% generation %} so that
# `return_assistant_tokens_mask` (TRL's assistant_only_loss) trains the model to end its turn.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def build_backend(model_file: Path, model_type: str = "bpe", role_pieces: bool = False):
    """A `tokenizers.Tokenizer` that reproduces sentencepiece's ids for the model in `model_file`.

    `model_type` is the sentencepiece algorithm it was trained with and `role_pieces` whether the role
    words were user-defined symbols (reading either from the model itself would need protobuf, which
    is not a dependency). sentencepiece cuts user-defined symbols out of the text before anything
    else; added tokens do the same here.
    """
    import sentencepiece as spm
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers

    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    byte_fallback = any(sp.is_byte(i) for i in range(len(pieces)))
    if model_type == "unigram":
        vocab = [(p, sp.get_score(i)) for i, p in enumerate(pieces)]
        model = models.Unigram(vocab, unk_id=UNK_ID, byte_fallback=byte_fallback)
    else:
        vocab = {p: i for i, p in enumerate(pieces)}
        model = models.BPE(vocab=vocab, merges=bpe_merges(sp), unk_token=UNK, fuse_unk=True,
                           byte_fallback=byte_fallback)
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Replace(" ", "▁")  # identity rule + escaped whitespace, no dummy prefix
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    if role_pieces:
        tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ROLE_WORDS])
    return tok


def bpe_merges(sp) -> list[tuple[str, str]]:
    """Merges implied by a sentencepiece BPE vocabulary.

    sentencepiece merges, at each step, the adjacent pair whose concatenation is the highest-scored
    piece (leftmost on ties); a HF merge rank per pair, ordered by the score of the merged piece,
    reproduces that. Splits of the same piece get distinct ranks (longest left first, as transformers
    orders them), so the two could differ only where two splits of one piece compete at once; on
    3 MB of mixed-language text and 20k random whitespace/symbol strings they never did.
    """
    normal = {}
    for i in range(sp.get_piece_size()):
        if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or sp.is_unused(i)):
            normal[sp.id_to_piece(i)] = i
    ranked = []
    for piece, i in normal.items():
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in normal and right in normal:
                ranked.append((-sp.get_score(i), i, -len(left), left, right))
    ranked.sort()
    return [(left, right) for *_, left, right in ranked]


def tokenizer_config(role_ids: dict[str, int] | None = None) -> dict:
    """tokenizer_config.json written by hand in keys every transformers version reads.

    (transformers 5's save_pretrained writes `TokenizersBackend` and a list-valued
    `extra_special_tokens`, which 4.x cannot load.) `role_ids`: the role words' ids when they are
    pieces of their own; llama.cpp's converter reads them here and marks them user-defined, so its
    tokenizer cuts them out of the text first, as sentencepiece and Hugging Face do.
    """
    added = {str(i): {"content": t, "special": True} for i, t in enumerate(SPECIAL_TOKENS)}
    added.update({str(i): {"content": t, "special": False} for t, i in (role_ids or {}).items()})
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "unk_token": UNK,
        "pad_token": PAD,
        "additional_special_tokens": list(CHAT_TOKENS),
        "add_bos_token": False,  # documents are separated by EOS in the token shards; no BOS anywhere
        "add_eos_token": False,
        "add_prefix_space": False,  # the model was trained without a dummy prefix
        "legacy": False,
        "clean_up_tokenization_spaces": False,  # else decode() eats spaces before punctuation
        "padding_side": "right",
        "model_input_names": ["input_ids", "attention_mask"],  # 4.x would add token_type_ids, which Llama rejects
        "chat_template": CHAT_TEMPLATE,
        "added_tokens_decoder": {
            i: {"content": a["content"], "lstrip": False, "normalized": False, "rstrip": False,
                "single_word": False, "special": a["special"]}
            for i, a in added.items()
        },
    }


def export_hf(model_file: Path, hf_dir: Path, model_type: str = "bpe", role_pieces: bool = False) -> Path:
    """Write `hf_dir` (tokenizer.json, tokenizer_config.json, tokenizer.model) for AutoTokenizer."""
    hf_dir.mkdir(parents=True, exist_ok=True)
    backend = build_backend(model_file, model_type, role_pieces)
    backend.save(str(hf_dir / "tokenizer.json"))
    role_ids = {t: backend.token_to_id(t) for t in ROLE_WORDS} if role_pieces else None
    (hf_dir / "tokenizer_config.json").write_text(
        json.dumps(tokenizer_config(role_ids), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if Path(model_file).resolve() != (hf_dir / "tokenizer.model").resolve():
        shutil.copyfile(model_file, hf_dir / "tokenizer.model")
    return hf_dir


def agreement(hf_dir: Path, model_file: Path, texts: list[str]) -> float:
    """Share of `texts` that the exported tokenizer.json encodes to exactly sentencepiece's ids.

    Special-token strings in the text (a literal "</s>") are read as plain text here, as sentencepiece
    does; through transformers they would become the special ids.
    """
    import sentencepiece as spm
    from tokenizers import Tokenizer

    if not texts:
        return 1.0
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    tok = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    tok.encode_special_tokens = True
    hf_ids = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    sp_ids = sp.encode(texts)
    return sum(a == b for a, b in zip(hf_ids, sp_ids)) / len(texts)
