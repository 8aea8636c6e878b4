"""Environment defaults that must be set before Prefect is imported."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_WORKDIR = "work"


def workdir_default() -> str:
    return os.environ.get("ZEROLLM_WORKDIR", DEFAULT_WORKDIR)


def prepare(workdir: Path) -> None:
    """Keep Prefect's state beside the run (unless the user chose a home or a server) and quiet."""
    os.environ.setdefault("PREFECT_HOME", str(Path(workdir).resolve() / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "zerollm")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
