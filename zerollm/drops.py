"""Where documents went: each data stage's losses by reason, and the config key that tunes each.

A filter tuned for web text can silently drop most of another kind of corpus (Gopher's "80 % of words
hold a letter" rule removes most technical documentation): when a stage loses more than half of its
input, the run says so in one line, and the report shows it. Each data stage tells its own losses
(`losses(metrics, stage_dir, config)` in its view module); this module adds them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WARN_SHARE = 0.5


@dataclass
class Reason:
    reason: str
    count: int
    key: str  # the config key that tunes it
    step: str = ""


@dataclass
class StageLoss:
    stage: str
    docs_in: int
    docs_out: int
    reasons: list[Reason]  # largest first
    hint: str = ""

    @property
    def share(self) -> float:
        return (self.docs_in - self.docs_out) / self.docs_in if self.docs_in else 0.0

    def line(self) -> str:
        top = self.reasons[0] if self.reasons else Reason("unknown", self.docs_in - self.docs_out, f"{self.stage}.*")
        where = f"{top.step}: " if top.step else ""
        return (f"warning: {self.stage} dropped {self.share:.0%} of its input ({self.docs_in - self.docs_out:,} of "
                f"{self.docs_in:,} documents); top reason: {where}{top.reason} ({top.count:,}); tune {top.key}"
                + (f" {self.hint}" if self.hint else ""))


def counts(metrics: dict) -> tuple[int, int] | None:
    """A data stage's documents in and out, or None when it did not count them."""
    docs_in, docs_out = metrics.get("docs_in"), metrics.get("docs_out")
    return None if docs_in is None or docs_out is None else (int(docs_in), int(docs_out))


def loss(stage: str, metrics: dict, reasons: list[Reason], hint: str = "") -> StageLoss | None:
    n = counts(metrics)
    if n is None:
        return None
    return StageLoss(stage, n[0], n[1], sorted(reasons, key=lambda r: -r.count), hint)


def stage_loss(registry, stage: str, metrics: dict, stage_dir: Path | None, config: dict | None) -> StageLoss | None:
    """A stage's losses, from its own view module; None for a stage that drops nothing."""
    view = registry.get(stage).presentation()
    fn = getattr(view, "losses", None)
    return fn(metrics, stage_dir, config or {}) if fn else None


def run_losses(record: dict, workdir: Path, registry) -> list[StageLoss]:
    """Each data stage of a run record, in order."""
    from zerollm.records import stage_path

    out = []
    for s in record.get("stages", []):
        if s["stage"] not in registry.names:
            continue
        found = stage_loss(registry, s["stage"], s.get("metrics") or {}, stage_path(workdir, s["dir"]),
                           record.get("config"))
        if found is not None:
            out.append(found)
    return out


def warnings(record: dict, workdir: Path, registry, share: float = WARN_SHARE) -> list[str]:
    """One line per stage of the run that lost more than `share` of its input."""
    return [x.line() for x in run_losses(record, workdir, registry) if x.share > share]
