"""collect: which sources to read and how to shard them, and where the chat/task datasets come from."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from zerollm.collect.synthetic.config import SyntheticConfig
from zerollm.config import StrictModel


class _Local(StrictModel):
    name: str | None = Field(None, description="Source name: id prefix and metadata.source. Default: the type.")
    path: str = Field(..., description="File path or glob (relative to the working directory), e.g. data/**/*.jsonl.gz")
    optional: bool = Field(False, description="May match no files (a watched inbox that starts empty): then it adds "
                                              "nothing, instead of failing the run before it starts.")


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


# ---- chat/task datasets ------------------------------------------------------------------------
# Row formats each dataset accepts; "auto" detects the format per row from its keys.
DATASET_FORMATS = {
    "sft": ("auto", "messages", "alpaca", "sharegpt", "prompt_completion"),
    "preference": ("auto", "preference"),
    "eval": ("auto", "qa"),
    "prompts": ("auto", "messages", "prompt"),
}
_FORMAT_DOC = ("Row format: auto (detected per row) or, by dataset: sft messages|alpaca|sharegpt|prompt_completion; "
               "preference preference; eval qa; prompts messages|prompt.")


class _Rows(StrictModel):
    name: str | None = Field(None, description="Source name: row metadata `source` and id prefix. Default: the type.")
    format: str = Field("auto", description=_FORMAT_DOC)


class JsonlRows(_Rows):
    type: Literal["jsonl"] = "jsonl"
    path: str = Field(..., description="File path or glob of JSON-lines files (.jsonl or .jsonl.gz), one row a line.")


class ParquetRows(_Rows):
    type: Literal["parquet"] = "parquet"
    path: str = Field(..., description="File path or glob of Parquet files, one row a record.")


class HfRows(_Rows):
    type: Literal["hf"] = "hf"
    dataset: str = Field(..., description="Hub dataset name (e.g. HuggingFaceH4/ultrachat_200k) or a local folder.")
    config: str | None = Field(None, description="Dataset configuration (subset) name.")
    split: str = Field("train", description="Split to read.")
    revision: str | None = Field(None, description="Pin a dataset revision (commit) for reproducible runs.")
    streaming: bool = Field(False, description="Stream instead of downloading the whole split first.")
    limit: int | None = Field(None, ge=1, description="Read at most this many rows.")


class UrlRows(_Rows):
    type: Literal["url"] = "url"
    url: str = Field(..., pattern=r"^https?://", description="HTTP(S) address of one file.")
    sha256: str = Field(..., pattern=r"^[0-9a-fA-F]{64}$", description="Expected sha256 of the file (required).")
    file_format: Literal["jsonl", "parquet"] = Field("jsonl", description="How to read the downloaded file.")
    retries: int = Field(3, ge=0, le=10, description="Download retries with exponential backoff.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout in seconds.")


# synthetic: that world's rows of the dataset (its generated items are already normalised)
DatasetSource = Annotated[
    Union[SyntheticConfig, JsonlRows, ParquetRows, HfRows, UrlRows],
    Field(discriminator="type"),
]


def _dataset_field(kind: str, what: str):
    return Field(None, description=f"{what} None: the rows of the synthetic world(s) among `sources`; a list "
                                   f"replaces them. Formats: {', '.join(DATASET_FORMATS[kind])}.")


class CollectConfig(StrictModel):
    sources: list[Source] = Field(
        default_factory=lambda: [SyntheticConfig()],
        description="Where documents come from; see the source types. Default: the embedded synthetic world.",
        min_length=1,
    )
    docs_per_shard: int = Field(1000, ge=1, description="Documents per output JSONL.gz shard.")
    max_doc_bytes: int = Field(1_000_000, ge=1, description="Longer documents are rejected (reason too_large).")
    min_doc_chars: int = Field(1, ge=0, description="Shorter (after strip) documents are rejected (reason empty).")
    rejects_sample: int = Field(20, ge=0, description="Rejected inputs kept per dataset and reason in "
                                                          "rejects.jsonl.")
    sft: list[DatasetSource] | None = _dataset_field(
        "sft", "Supervised chats, written as datasets/sft.jsonl (`messages`).")
    preference: list[DatasetSource] | None = _dataset_field(
        "preference", "Preference pairs, written as datasets/preference.jsonl (`prompt`, `chosen`, `rejected`).")
    eval: list[DatasetSource] | None = _dataset_field(
        "eval", "Evaluation QA items, written as datasets/eval.jsonl (`question`, `answer`, optional `choices`).")
    prompts: list[DatasetSource] | None = _dataset_field(
        "prompts", "RL prompts (prompt-only chats, optional verifiable `answer`), written as datasets/prompts.jsonl.")
    max_row_chars: int = Field(20_000, ge=1, description="Dataset rows with more text than this (all turns "
                                                         "together) are rejected (reason too_long).")

    @model_validator(mode="after")
    def _unique_names(self):
        names = [source_name(s) for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; set `name` on sources {dupes}")
        return self

    @model_validator(mode="after")
    def _check_datasets(self):
        # one validator for all four lists: the sources are shared types, the allowed formats differ per dataset
        for kind, allowed in DATASET_FORMATS.items():
            srcs = getattr(self, kind) or []
            for i, src in enumerate(srcs):
                fmt = getattr(src, "format", "auto")
                if fmt not in allowed:
                    raise PydanticCustomError(
                        "dataset_format", "collect.{key}.format: {got} not one of {allowed}",
                        {"key": f"{kind}[{i}]", "got": repr(fmt), "allowed": ", ".join(allowed)})
            names = [source_name(s) for s in srcs]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise PydanticCustomError(
                    "dataset_names", "collect.{kind}: source names must be unique; set `name` on {dupes}",
                    {"kind": kind, "dupes": str(dupes)})
        return self

    def dataset_sources(self, kind: str) -> list:
        """The sources of one dataset: the explicit list, else the synthetic worlds among `sources`, else
        the embedded world (so "my own corpus, defaults for the rest" still makes a chat model)."""
        explicit = getattr(self, kind)
        if explicit is not None:
            return list(explicit)
        return [s for s in self.sources if isinstance(s, SyntheticConfig)] or [SyntheticConfig()]

    def embedded_chat_sets(self) -> list[str]:
        """The chat sets that come from the embedded world because nothing else gives them."""
        if any(isinstance(s, SyntheticConfig) for s in self.sources):
            return []
        return [kind for kind in DATASET_FORMATS if getattr(self, kind) is None]


def source_name(src) -> str:
    return src.name or src.type
