"""How the run report shows the tokenizer: bytes per token on held-out text and in both languages."""

from __future__ import annotations

from zerollm.report.blocks import Para, Section, Table, Tokens
from zerollm.report.sections import not_run

# one fixed sentence per language: the tokenizer's cost on a language is shown even when the run's
# held-out text has none of it (a tokenizer trained on English alone spends many tokens on Chinese)
FIXED = {"en": "The baker in the old harbour town opens her shop at six every morning.",
         "zh": "老港口小镇的面包师每天早上六点开门营业。"}


def _is_zh(text: str) -> bool:
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    return cjk > 0.2 * max(1, len(text.strip()))


def section(view) -> Section:
    sec = Section("tokenizer", "Tokenizer")
    tok = view.stage("tokenizer")
    model = tok.path("hf/tokenizer.model")
    if not tok.done or model is None:
        return not_run(sec, view, ["tokenizer"])
    import sentencepiece as spm

    from zerollm.heldout import val_token_docs

    sp = spm.SentencePieceProcessor(model_file=str(model))
    texts = [sp.decode(d) for d in val_token_docs(tok.dir, 200, 1 << 30)]
    by_lang: dict[str, list[str]] = {"en": [], "zh": []}
    for t in texts:
        by_lang["zh" if _is_zh(t) else "en"].append(t)
    rows = []
    for lang, group in by_lang.items():
        if group:
            n_bytes = sum(len(t.encode("utf-8")) for t in group)
            n_tok = sum(len(sp.encode(t)) for t in group)
            rows.append([f"held-out {lang} text ({len(group)} documents)", n_bytes, n_tok, n_bytes / max(n_tok, 1)])
    for lang, text in FIXED.items():
        n_tok = len(sp.encode(text))
        rows.append([f"fixed {lang} sentence" + ("" if by_lang[lang] else f" (no {lang} in this run's data)"),
                     len(text.encode("utf-8")), n_tok, len(text.encode("utf-8")) / max(n_tok, 1)])
    m = tok.metrics
    sec.add(Para(f"Vocabulary {int(m.get('vocab_size', sp.get_piece_size())):,} pieces "
                 f"({m.get('vocab_used_frac', 0):.0%} used on the training text); "
                 f"{int(m.get('train_tokens', 0)):,} training tokens. More bytes per token means fewer tokens "
                 "for the same text: cheaper training and a longer effective context."))
    sec.add(Table(["text", "bytes", "tokens", "bytes per token"], rows, "Bytes per token"))
    sample = next((t for t in texts if len(t) > 40), FIXED["en"])
    sample = sample[:160]
    pieces = [sp.id_to_piece(i).replace("▁", " ") for i in sp.encode(sample)]
    sec.add(Tokens(pieces, f"A held-out text token by token ({len(pieces)} tokens for {len(sample)} characters):"))
    other = "en" if _is_zh(sample) else "zh"  # the other language, token by token
    text = by_lang[other][0][:80] if by_lang[other] else FIXED[other]
    name = {"en": "English", "zh": "Chinese"}[other]
    sec.add(Tokens([sp.id_to_piece(i).replace("▁", " ") for i in sp.encode(text)], f"{name}, token by token"
                   + ("" if by_lang[other] else f" (no {name} in this run's data: pieces like <0xE8> are raw "
                      "bytes, the tokenizer's fallback for what it never saw)") + ":"))
    return sec
