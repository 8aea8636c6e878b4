"""One `zerollm serve` on the tiny run's released model, shared by the serving tests (a server start
is seconds; one per test would add up)."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.flows.servers import free_port, server

ZEROLLM = str(Path(sys.executable).with_name("zerollm"))


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT
    log: Path
    model: str  # the name /v1/models lists

    @property
    def api(self) -> str:
        return f"{self.base}/v1"


def serve(released, tmp: Path, *args: str):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [ZEROLLM, "serve", "--workdir", str(released["work"]), "--model", "latest", "--port", str(port), *args]
    log = tmp / f"serve-{port}.log"
    return base, log, server(cmd, f"{base}/health", log, dict(os.environ))


@pytest.fixture(scope="session")
def served(released, tmp_path_factory):
    import json
    import urllib.request

    base, log, running = serve(released, tmp_path_factory.mktemp("served"))
    with running:
        with urllib.request.urlopen(f"{base}/v1/models", timeout=10) as r:
            model = json.load(r)["data"][0]["id"]
        yield Served(base, log, model)
