"""The pipeline's stages, in order: the one list everything else derives from.

Adding a stage: write its package, ending its stage module with `STAGE = Stage(...)`
(`zerollm.stage`), and add one line below. The pipeline config, `zerollm stages`, the model-stage
lists, the run report and the benchmarks follow from this list.

No stage imports this module, so the registry is part of no stage's code version.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from zerollm.collect.stage import STAGE as collect
from zerollm.dedup.stage import STAGE as dedup
from zerollm.evaluate.stage import STAGE as evaluate
from zerollm.filter.stage import STAGE as filter_
from zerollm.pretrain.stage import STAGE as pretrain
from zerollm.quantize.stage import STAGE as quantize
from zerollm.rlhf.stage import STAGE as rlhf
from zerollm.sft.stage import STAGE as sft
from zerollm.stage import MODEL_STAGES, Stage
from zerollm.tokenizer.stage import STAGE as tokenizer

RESERVED = ("name", "tracking", "data", "faults")  # pipeline config keys that are not stages


@dataclass(frozen=True)
class Registry:
    stages: tuple[Stage, ...]

    def __post_init__(self):
        seen: set[str] = set()
        for s in self.stages:
            if s.name in RESERVED or s.name in seen or not s.name.isidentifier():
                raise ValueError(f"stage name {s.name!r}: must be a new identifier, not one of {', '.join(RESERVED)}")
            missing = [i for i in s.inputs if i != MODEL_STAGES and i not in seen]
            if missing:
                raise ValueError(f"stage {s.name!r} reads {missing}, which no earlier stage makes")
            seen.add(s.name)

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @cached_property
    def model_stages(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages if s.produces_model)

    def get(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(self.names)}")

    def inputs(self, name: str) -> tuple[str, ...]:
        """A stage's input stages, MODEL_STAGES expanded to the model stages before it."""
        before = self.names[: self.names.index(name)]
        out: list[str] = []
        for i in self.get(name).inputs:
            out += [m for m in self.model_stages if m in before] if i == MODEL_STAGES else [i]
        return tuple(dict.fromkeys(out))

    def select(self, until: str | None) -> tuple[str, ...]:
        """The stages a run with `--until` runs: every stage up to and including it."""
        if until is None:
            return self.names
        if until not in self.names:
            raise ValueError(f"--until {until!r}: unknown stage; stages: {', '.join(self.names)}")
        return self.names[: self.names.index(until) + 1]

    def with_stage(self, stage: Stage, after: str | None = None) -> "Registry":
        """This registry with one more stage (at the end, or after `after`): how a plugin or test adds one."""
        at = len(self.stages) if after is None else self.names.index(after) + 1
        return Registry((*self.stages[:at], stage, *self.stages[at:]))


STAGES = Registry((
    collect,
    filter_,
    dedup,
    tokenizer,
    pretrain,
    sft,
    rlhf,
    quantize,
    evaluate,
))
