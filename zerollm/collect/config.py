"""collect: which sources to read and how to shard them."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from zerollm.collect.synthetic.config import SyntheticConfig
from zerollm.config import StrictModel


class _Local(StrictModel):
    name: str | None = Field(None, description="Source name: id prefix and metadata.source. Default: the type.")
    path: str = Field(..., description="File path or glob (relative to the working directory), e.g. data/**/*.jsonl.gz")


class TextSource(_Local):
    type: Literal["text"] = "text"
    split: Literal["file", "paragraph"] = Field("file", description="One doc per file, or per blank-line block.")


class JsonlSource(_Local):
    type: Literal["jsonl"] = "jsonl"
    text_key: str = Field("text", description="Field holding the document text.")
    id_key: str | None = Field(None, description="Field holding a stable id to keep; default: derived ids.")


class ParquetSource(_Local):
    type: Literal["parquet"] = "parquet"
    text_key: str = Field("text", description="Column holding the document text.")
    id_key: str | None = Field(None, description="Column holding a stable id to keep.")


class HtmlSource(_Local):
    type: Literal["html"] = "html"


class WarcSource(_Local):
    type: Literal["warc"] = "warc"


class HfSource(StrictModel):
    type: Literal["hf"] = "hf"
    name: str | None = Field(None, description="Source name (id prefix). Default: 'hf'.")
    dataset: str = Field(..., description="Hub dataset name (e.g. HuggingFaceFW/fineweb-edu) or a local dataset folder.")
    config: str | None = Field(None, description="Dataset configuration (subset) name.")
    split: str = Field("train", description="Split to read.")
    revision: str | None = Field(None, description="Pin a dataset revision (commit) for reproducible runs.")
    streaming: bool = Field(False, description="Stream instead of downloading the whole split first.")
    text_key: str = Field("text", description="Column holding the document text.")
    id_key: str | None = Field(None, description="Column holding a stable id to keep.")
    limit: int | None = Field(None, ge=1, description="Read at most this many records.")


class UrlSource(StrictModel):
    type: Literal["url"] = "url"
    name: str | None = Field(None, description="Source name (id prefix). Default: 'url'.")
    url: str = Field(..., pattern=r"^https?://", description="HTTP(S) address of one file.")
    sha256: str = Field(..., pattern=r"^[0-9a-fA-F]{64}$", description="Expected sha256 of the file (required).")
    format: Literal["text", "jsonl", "parquet", "html", "warc"] = Field("jsonl", description="How to read the file.")
    text_key: str = Field("text", description="For jsonl/parquet: field holding the text.")
    id_key: str | None = Field(None, description="For jsonl/parquet: field holding a stable id.")
    retries: int = Field(3, ge=0, le=10, description="Download retries with exponential backoff.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout in seconds.")


Source = Annotated[
    Union[SyntheticConfig, TextSource, JsonlSource, ParquetSource, HtmlSource, WarcSource, HfSource, UrlSource],
    Field(discriminator="type"),
]


class CollectConfig(StrictModel):
    sources: list[Source] = Field(
        default_factory=lambda: [SyntheticConfig()],
        description="Where documents come from; see the source types. Default: the embedded synthetic world.",
        min_length=1,
    )
    docs_per_shard: int = Field(1000, ge=1, description="Documents per output JSONL.gz shard.")
    max_doc_bytes: int = Field(1_000_000, ge=1, description="Longer documents are rejected (reason too_large).")
    min_doc_chars: int = Field(1, ge=0, description="Shorter (after strip) documents are rejected (reason empty).")
    rejects_sample: int = Field(20, ge=0, description="Rejected inputs kept per reason in rejects.jsonl.")

    @model_validator(mode="after")
    def _unique_names(self):
        names = [source_name(s) for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; set `name` on sources {dupes}")
        return self


def source_name(src) -> str:
    return src.name or src.type
