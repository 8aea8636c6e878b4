"""What a report section is made of. Sections are built once from these blocks and rendered twice
(HTML with images inline, Markdown with images beside it), so the two files never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Para:
    text: str


@dataclass
class Warn:
    """Something the reader must not miss (a stage that lost most of its data, a stage that did not run)."""
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list]
    caption: str = ""


@dataclass
class Image:
    name: str  # file name under img/ for the Markdown report
    png: bytes
    alt: str


@dataclass
class Code:
    text: str
    summary: str = ""  # set: shown folded (HTML <details>)


@dataclass
class Tokens:
    """A text cut into its tokens, shown piece by piece."""
    pieces: list[str]
    caption: str = ""


@dataclass
class Links:
    items: list[tuple[str, str]]  # (label, url)


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> "Section":
        self.blocks.extend(b for b in blocks if b is not None)
        return self
