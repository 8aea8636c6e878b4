"""Send datatrove's console output (loguru, hard-wired to stderr at INFO) to a file.

Datatrove already writes full per-task logs under the stage's logs/; on the console its per-step
stats tables drown the pipeline's own progress. The redirect is at the file-descriptor level so that
worker processes started inside it inherit it too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def stderr_to(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as f:
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
