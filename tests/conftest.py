import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ctx(tmp_path):
    from zerollm.stage import StageContext

    return StageContext(workdir=tmp_path, log=logging.getLogger("test"))
