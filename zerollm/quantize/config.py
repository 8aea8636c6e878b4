"""quantize: which model, which GGUF types, and how each file is checked against its source."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from zerollm.config import ModelStageOrAuto, StrictModel

# llama.cpp quant types this stage offers (name -> llama_ftype in llama.h), all checked on the tiny model
QUANT_TYPES = {"Q8_0": 7, "Q6_K": 18, "Q5_K_M": 17, "Q4_K_M": 15, "Q4_0": 2}


class QuantizeConfig(StrictModel):
    """GGUF export and quantization of one model stage."""

    model: ModelStageOrAuto = Field(
        "auto", description="Model stage to export: auto = the last model stage, or one by name.")
    outtype: Literal["f16", "bf16"] = Field(
        "f16", description="The unquantized GGUF that the quant types start from (llama.cpp converter --outtype).")
    types: list[str] = Field(["Q8_0", "Q4_K_M"], description=f"Quant types to make: {', '.join(QUANT_TYPES)}.")
    serve_type: str = Field(
        "Q8_0", description="The file `zerollm chat/serve`, the Modelfile and the gate use: a quant type or F16 "
                            "(made even when not listed in `types`).")
    max_regression: float = Field(
        0.05, ge=0, description="Gate: the served quant may lose at most this fraction of its source's score on "
                                "each local task (bits per byte: may rise by it), and the new model this "
                                "fraction against the current champion.")
    parity_docs: int = Field(32, ge=1, description="Held-out validation documents for top-1 agreement and "
                                                   "perplexity against the HF model.")
    speed_tokens: int = Field(64, ge=8, description="Tokens generated to time llama.cpp against HF generate.")
    threads: int = Field(0, ge=0, description="CPU threads for llama.cpp and torch; 0: all cores.",
                         json_schema_extra={"cache_key": False})

    @field_validator("types")
    @classmethod
    def _known_types(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if t not in QUANT_TYPES]
        if bad:
            raise ValueError(f"unknown quant type {bad[0]!r}; allowed: {', '.join(QUANT_TYPES)}")
        return list(dict.fromkeys(v))

    @field_validator("serve_type")
    @classmethod
    def _known_serve_type(cls, v: str) -> str:
        if v != "F16" and v not in QUANT_TYPES:
            raise ValueError(f"unknown serve type {v!r}; allowed: F16, {', '.join(QUANT_TYPES)}")
        return v

    def all_types(self) -> list[str]:
        """Quant types to make: `types` plus the serve type."""
        extra = [self.serve_type] if self.serve_type not in ("F16", *self.types) else []
        return [*self.types, *extra]

    def source_stage(self, model_stages: tuple[str, ...]) -> str:
        """The stage whose model is exported; `model_stages` comes from the registry."""
        return model_stages[-1] if self.model == "auto" else self.model
