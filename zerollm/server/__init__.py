"""`zerollm serve`: an OpenAI-compatible API and a chat page on a GGUF model (see app.py for why it is
our own app on llama-cpp-python's `Llama`, not llama-cpp-python's bundled server)."""

from __future__ import annotations

import sys
from pathlib import Path


def serve(path: Path, host: str = "127.0.0.1", port: int = 8000, alias: str | None = None, threads: int = 0,
          parallel: int = 2, queue: int = 32) -> None:
    import uvicorn

    from zerollm import llamacpp
    from zerollm.server.app import create_app
    from zerollm.server.pool import ModelPool

    llamacpp.runtime()  # repacking off before any model loads
    pool = ModelPool(path, parallel=parallel, threads=threads, queue=queue)
    name = alias or path.stem
    app = create_app(pool, path, name)
    print(f"serving {path} as {name!r} ({parallel} instance(s) x {pool.threads_per_instance} thread(s), queue "
          f"{queue}, context {pool.n_ctx} tokens): chat page http://{host}:{port}/ · OpenAI API "
          f"http://{host}:{port}/v1", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    finally:
        if pool.busy == 0:  # a generation still running after the graceful period ends with the process
            pool.close()
