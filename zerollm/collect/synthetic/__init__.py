"""The embedded default data source: a small fictional world told many times over in varied prose.

It lets the whole pipeline run offline, in minutes, with a model small enough for a laptop CPU that
still learns checkable facts, and its planted dirt comes with ground truth so every cleaning stage
can be measured. Same config, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zerollm.collect.synthetic.config import SyntheticConfig
from zerollm.collect.synthetic.dirt import plant
from zerollm.collect.synthetic.render_en import EnglishRenderer, Renderer
from zerollm.collect.synthetic.render_zh import ChineseRenderer
from zerollm.collect.synthetic.tasks import build_tasks
from zerollm.collect.synthetic.world import World, build_world, rng_for

__all__ = ["SyntheticConfig", "SyntheticData", "generate"]


@dataclass
class SyntheticData:
    docs: list[dict] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)
    eval: list[dict] = field(default_factory=list)
    sft: list[dict] = field(default_factory=list)
    preference: list[dict] = field(default_factory=list)
    prompts: list[dict] = field(default_factory=list)


def make_renderer(world: World, *purpose) -> Renderer:
    cls = ChineseRenderer if world.language == "zh" else EnglishRenderer
    return cls(world, rng_for("render", world.seed, world.language, len(world.entities), *purpose))


def clean_docs(world: World, target_bytes: int) -> list[str]:
    """Clean documents until `target_bytes` of UTF-8 text; every entity is the focus equally often."""
    r = make_renderer(world, "docs")
    order_rng = rng_for("focus", world.seed, world.language, len(world.entities))
    entities = list(world.entities.values())
    out: list[str] = []
    total = 0
    while total < target_bytes:
        order = entities[:]
        order_rng.shuffle(order)
        for e in order:
            text = r.document(e)
            out.append(text)
            total += len(text.encode("utf-8"))
            if total >= target_bytes:
                break
    return out


def generate(cfg: SyntheticConfig) -> SyntheticData:
    world = build_world(cfg.seed, cfg.n_entities, cfg.language)
    tasks = build_tasks(world, make_renderer(world, "tasks"), cfg)
    clean = clean_docs(world, int(cfg.target_mb * 1_000_000))
    names = [e.name for e in world.kind("person")]
    docs, truth = plant(clean, tasks.eval, cfg, names)
    return SyntheticData(docs=docs, truth=truth, eval=tasks.eval, sft=tasks.sft, preference=tasks.preference,
                         prompts=tasks.prompts)
