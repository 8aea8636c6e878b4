"""Sections to a self-contained HTML page (styles and images inline: it opens from disk, with no
server and no network) and to Markdown (images written beside it under img/)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from zerollm.report.blocks import Code, Image, Links, Para, Section, Table, Tokens, Warn

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","PingFang SC",sans-serif;
 margin:0 auto;max-width:1100px;padding:0 24px 48px;color:#1d2430;background:#fff}
header{border-bottom:1px solid #dde3ea;margin-bottom:8px}
h1{font-size:26px;margin:24px 0 4px} h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #eef1f4}
nav a{margin-right:12px;font-size:14px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px;display:block;overflow-x:auto}
th,td{border:1px solid #dde3ea;padding:4px 8px;text-align:left;vertical-align:top;max-width:420px}
th{background:#f4f6f9} td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;color:#5a6572;font-size:13px;padding-bottom:4px}
img{max-width:100%;height:auto;border:1px solid #eef1f4;margin:8px 0}
pre{background:#f6f8fa;padding:12px;overflow-x:auto;font-size:12px}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:8px 12px;margin:8px 0}
.tokens{line-height:2.1;font-family:ui-monospace,monospace;font-size:14px}
.tokens span{padding:2px 1px;border-radius:3px;margin-right:1px;white-space:pre}
.tokens span:nth-child(4n+1){background:#dbeafe}.tokens span:nth-child(4n+2){background:#fde2e4}
.tokens span:nth-child(4n+3){background:#dcfce7}.tokens span:nth-child(4n){background:#fef3c7}
.muted{color:#5a6572;font-size:13px}
"""


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "–" if v is None else str(v)


def _html_block(b) -> str:
    e = html.escape
    if isinstance(b, Para):
        return f"<p>{e(b.text)}</p>"
    if isinstance(b, Warn):
        return f'<div class="warn">{e(b.text)}</div>'
    if isinstance(b, Table):
        head = "".join(f"<th>{e(h)}</th>" for h in b.header)
        body = "".join("<tr>" + "".join(
            f'<td class="num">{e(_cell(v))}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>" for row in b.rows)
        cap = f"<caption>{e(b.caption)}</caption>" if b.caption else ""
        return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(b, Image):
        data = base64.b64encode(b.png).decode("ascii")
        return f'<img alt="{e(b.alt)}" src="data:image/png;base64,{data}">'
    if isinstance(b, Code):
        pre = f"<pre>{e(b.text)}</pre>"
        return f"<details><summary>{e(b.summary)}</summary>{pre}</details>" if b.summary else pre
    if isinstance(b, Tokens):
        spans = "".join(f"<span>{e(p)}</span>" for p in b.pieces)
        cap = f'<p class="muted">{e(b.caption)}</p>' if b.caption else ""
        return f'{cap}<div class="tokens">{spans}</div>'
    if isinstance(b, Links):
        items = "".join(f'<li><a href="{e(url)}">{e(label)}</a></li>' if url else f"<li>{e(label)}</li>"
                        for label, url in b.items)
        return f"<ul>{items}</ul>"
    raise TypeError(f"unknown report block {type(b).__name__}")


def to_html(title: str, subtitle: str, sections: list[Section], lang: str = "en") -> str:
    e = html.escape
    nav = "".join(f'<a href="#{s.id}">{e(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{s.id}"><h2>{e(s.title)}</h2>' + "".join(_html_block(b) for b in s.blocks)
                   + "</section>" for s in sections)
    return (f'<!doctype html><html lang="{e(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{e(title)}</title>'
            f"<style>{STYLE}</style></head><body><header><h1>{e(title)}</h1>"
            f'<p class="muted">{e(subtitle)}</p><nav>{nav}</nav></header>{body}</body></html>\n')


def _md_escape(v) -> str:
    return _cell(v).replace("|", "\\|").replace("\n", " ")


def _md_block(b, img_dir: Path) -> str:
    if isinstance(b, Para):
        return b.text
    if isinstance(b, Warn):
        return f"> **{b.text}**"
    if isinstance(b, Table):
        lines = ([f"*{b.caption}*", ""] if b.caption else []) + [
            "| " + " | ".join(_md_escape(h) for h in b.header) + " |", "|" + "---|" * len(b.header)]
        lines += ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in b.rows]
        return "\n".join(lines)
    if isinstance(b, Image):
        img_dir.mkdir(parents=True, exist_ok=True)
        (img_dir / b.name).write_bytes(b.png)
        return f"![{b.alt}]({img_dir.name}/{b.name})"
    if isinstance(b, Code):
        return (f"{b.summary}:\n\n" if b.summary else "") + f"```\n{b.text}\n```"
    if isinstance(b, Tokens):
        return (f"{b.caption}\n\n" if b.caption else "") + "`" + "|".join(
            p.replace("`", "'").replace("\n", "\\n") for p in b.pieces) + "`"
    if isinstance(b, Links):
        return "\n".join(f"- [{label}]({url})" if url else f"- {label}" for label, url in b.items)
    raise TypeError(f"unknown report block {type(b).__name__}")


def to_markdown(title: str, subtitle: str, sections: list[Section], img_dir: Path) -> str:
    parts = [f"# {title}", subtitle]
    for s in sections:
        parts.append(f"## {s.title}")
        parts += [_md_block(b, img_dir) for b in s.blocks]
    return "\n\n".join(parts) + "\n"
