"""evaluate: the offline task suite, which models it scores, and the model registry."""

from __future__ import annotations

from pydantic import Field, field_validator

from zerollm.config import ModelStageRef, StrictModel


class RegistryConfig(StrictModel):
    enabled: bool = Field(True, description="Register the final model in the MLflow model registry (needs "
                                            "tracking on) and move the alias when the gate passes.")
    name: str = Field("zerollm-chat", min_length=1, description="Registered model name.")
    alias: str = Field("champion", min_length=1, description="Alias moved to a version that passes the gate.")


class EvaluateConfig(StrictModel):
    """One lm-eval suite over every model stage and every GGUF file; the registry and its gate."""

    max_items: int = Field(200, ge=1, description="Held-out eval items per local QA task.")
    ppl_docs: int = Field(32, ge=1, description="Validation documents for held-out perplexity and bits per byte.")
    max_new_tokens: int = Field(40, ge=1, description="Tokens generated per QA answer.")
    tasks: list[str] = Field([], description="lm-eval registry tasks by name (e.g. [hellaswag, arc_easy]); a "
                                             "task whose data cannot be reached offline is skipped with one line.")
    limit: int = Field(0, ge=0, description="Items per registry task (0: all).")
    include_path: str | None = Field(None, description="A folder of extra lm-eval task YAMLs (e.g. a registry "
                                                      "task pointed at a local copy of its data), named in `tasks`.")
    models: list[ModelStageRef] | None = Field(
        None, description="Model stages scored with the HF backend (None: every model stage).")
    gguf: bool = Field(True, description="Score every GGUF file of the quantize stage through llama.cpp.")
    batch_size: int = Field(32, ge=1, description="HF backend batch size.", json_schema_extra={"cache_key": False})
    threads: int = Field(0, ge=0, description="CPU threads; 0: all cores.", json_schema_extra={"cache_key": False})
    @field_validator("models")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else list(dict.fromkeys(v))

    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="MLflow model registry and gate "
                                     "(part of the key: a new name or alias registers again).")
