"""The report's pictures, as PNG bytes (matplotlib, no display).

Drawing them is most of a report's time (matplotlib's import and layout: ~3 s on 2 cores), and a
cached rerun draws the same pictures from the same numbers: `cache_in(dir)` keeps each PNG under the
hash of its inputs and of this file, so an unchanged picture is read back instead of drawn.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from contextvars import ContextVar
from pathlib import Path

from zerollm.io.hashing import short_hash

Series = dict[str, tuple[list[float], list[float]]]  # label -> (steps, values)
_cache_dir: ContextVar[Path | None] = ContextVar("chart_cache_dir", default=None)


@contextlib.contextmanager
def cache_in(directory: Path):
    token = _cache_dir.set(Path(directory))
    try:
        yield
    finally:
        _cache_dir.reset(token)


def _cached(draw):
    @functools.wraps(draw)
    def wrapper(*args):
        where = _cache_dir.get()
        if where is None:
            return draw(*args)
        from zerollm.codeversion import file_digest

        path = where / f"{draw.__name__}-{short_hash([file_digest(Path(__file__)), args])}.png"
        if path.is_file():
            return path.read_bytes()
        png = draw(*args)
        where.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.part")
        tmp.write_bytes(png)
        tmp.replace(path)
        return png

    return wrapper


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    _plt().close(fig)
    return buf.getvalue()


@_cached
def funnel(steps: list[tuple[str, int, int]]) -> bytes:
    """(label, documents left after it, documents it dropped), top to bottom."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(steps) + 1.2))
    labels = [s[0] for s in steps]
    left = [s[1] for s in steps]
    dropped = [s[2] for s in steps]
    y = list(range(len(steps)))[::-1]
    ax.barh(y, left, color="#4c72b0", label="documents left")
    ax.barh(y, dropped, left=left, color="#dd8452", label="dropped here")
    for yi, n, d in zip(y, left, dropped):
        ax.text(n + d, yi, f" {n:,}" + (f"  (−{d:,})" if d else ""), va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("documents")
    ax.set_xlim(0, max(n + d for n, d in zip(left, dropped)) * 1.25 or 1)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


@_cached
def curves(panels: dict[str, Series]) -> bytes:
    """One panel per title, each with its named lines."""
    plt = _plt()
    n = len(panels)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.1 * rows), squeeze=False)
    for ax, (title, series) in zip([a for r in axes for a in r], panels.items()):
        for label, (xs, ys) in series.items():
            ax.plot(xs, ys, marker="o" if len(xs) < 12 else None, markersize=3, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        if len(series) > 1:
            ax.legend(fontsize=7)
    for ax in [a for r in axes for a in r][n:]:
        ax.axis("off")
    return _png(fig)


@_cached
def quant(rows: list[dict]) -> bytes:
    """File size against quality (Δppl and top-1 agreement with the HF model) per GGUF type."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.3))
    for r in rows:
        a.scatter(r["size_mb"], r["ppl_delta_pct"], color="#4c72b0")
        a.annotate(r["type"], (r["size_mb"], r["ppl_delta_pct"]), fontsize=8, xytext=(4, 4),
                   textcoords="offset points")
        b.scatter(r["size_mb"], r["top1"], color="#dd8452")
        b.annotate(r["type"], (r["size_mb"], r["top1"]), fontsize=8, xytext=(4, 4), textcoords="offset points")
    a.set_xlabel("file size (MB)", fontsize=8)
    a.set_ylabel("Δ perplexity vs HF (%)", fontsize=8)
    b.set_xlabel("file size (MB)", fontsize=8)
    b.set_ylabel("top-1 agreement with HF", fontsize=8)
    for ax in (a, b):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return _png(fig)
