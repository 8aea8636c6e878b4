"""Faults injected on purpose, so that users and tests can watch a failure and its resume.

`faults.fail_once: STAGE` (or `$ZEROLLM_FAIL_ONCE=STAGE`) makes that stage raise once per stage key:
a marker under `<workdir>/faults/` remembers that it already failed, so the next run (or
`zerollm resume`) goes through.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from zerollm.config import StageRef, StrictModel

ENV = "ZEROLLM_FAIL_ONCE"


class InjectedFault(RuntimeError):
    pass


class FaultsConfig(StrictModel):
    fail_once: StageRef | None = Field(None, description=f"A stage that fails once, on purpose (also ${ENV}).")


def maybe_fail(cfg: FaultsConfig, stage: str, key: str, workdir: Path) -> None:
    target = cfg.fail_once or os.environ.get(ENV) or None
    if target != stage:
        return
    marker = Path(workdir) / "faults" / f"{stage}-{key}"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    raise InjectedFault(f"{stage}: failing once on purpose (faults.fail_once / ${ENV}); "
                        f"`zerollm resume` or the same command again continues from here")
