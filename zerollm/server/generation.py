"""One request's work on one model instance, in a thread of its own.

llama.cpp blocks while it computes, so each generation runs off the event loop and hands its results
(a whole reply, or stream chunks) to an asyncio queue. The thread, not the request, gives the
instance back to the pool when it ends: a client that vanished mid-answer, a cancelled handler or an
error all leave the instance free and in one piece.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Callable, Iterator

from zerollm.server.pool import Cancel, ModelPool

log = logging.getLogger("zerollm.serve")


class Generation:
    def __init__(self, pool: ModelPool, llm, call: Callable[[object, Cancel], dict | Iterator[dict]]):
        self.cancel = Cancel()
        self._items: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def put(kind: str, item) -> None:
            try:
                loop.call_soon_threadsafe(self._items.put_nowait, (kind, item))
            except RuntimeError:  # the loop is closed: the server is shutting down
                pass

        def work() -> None:
            started = time.monotonic()
            try:
                out = call(llm, self.cancel)
                if isinstance(out, dict):
                    put("reply", out)
                else:
                    try:
                        for chunk in out:
                            put("chunk", chunk)
                            if self.cancel.is_set:
                                break
                    finally:
                        out.close()  # in this thread: llama-cpp-python's generator cleans up here
                    put("end", None)
            except Exception as exc:  # noqa: BLE001  (handed to the request, which decides 400 or 500)
                put("error", exc)
            finally:
                try:
                    loop.call_soon_threadsafe(pool.give_back, llm, time.monotonic() - started)
                except RuntimeError:
                    pass

        threading.Thread(target=work, name="zerollm-generate", daemon=True).start()

    async def next(self) -> tuple[str, object]:
        """("reply", dict) | ("chunk", dict) | ("end", None) | ("error", Exception)."""
        return await self._items.get()
