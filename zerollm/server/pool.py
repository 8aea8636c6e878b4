"""Model instances and the bounded queue in front of them.

llama-cpp-python's `Llama` holds one sequence at a time, so parallel answers need separate
instances: each has its own context (KV cache) while the weights, memory-mapped from the same GGUF,
are shared through the page cache. A request first takes a ticket (refused at once when `queue`
requests already wait), then waits for a free instance. Whoever waits or generates for a client that
went away gives its place back: the waiting loop polls for the disconnect, and a generation is cut
short through a logits processor that leaves only end-of-turn to sample.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

import numpy as np

from zerollm import llamacpp


class Overloaded(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy; retry after {retry_after} s")
        self.retry_after = retry_after


class Gone(Exception):
    """The client disconnected while its request waited."""


@dataclass
class Cancel:
    """Set from the event loop when a client goes away; read by the generating thread."""
    event: threading.Event = field(default_factory=threading.Event)

    def set(self) -> None:
        self.event.set()

    @property
    def is_set(self) -> bool:
        return self.event.is_set()

    def processor(self, eos: int):
        """A llama-cpp-python logits processor: once cancelled, only `eos` can be sampled, so the
        generation ends at its next token with the instance in a clean state."""
        def cut(input_ids, scores):
            if self.event.is_set():
                scores = np.full_like(scores, -np.inf)
                scores[eos] = 0.0
            return scores
        return cut


class Ticket:
    """A place in the queue, given back exactly once (by the wait that ends, or by the response that
    never started its wait)."""
    __slots__ = ("pool", "held")

    def __init__(self, pool: "ModelPool"):
        self.pool, self.held = pool, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.pool.waiting -= 1


class ModelPool:
    def __init__(self, path: Path, parallel: int = 1, threads: int = 0, queue: int = 32, n_ctx: int = 0):
        if parallel < 1 or queue < 0:
            raise ValueError(f"parallel must be >= 1 and queue >= 0 (got {parallel}, {queue})")
        # llama.cpp's worker threads spin while they wait: one core is left to the event loop that
        # streams the answers (on 2 cores, 16 streams took 8.5 s with 2 threads and 0.4 s with 1)
        total = threads or max(1, llamacpp.cpu_threads() - 1)
        per = max(1, total // parallel)
        self.instances = [llamacpp.open_model(path, n_ctx=n_ctx, threads=per) for _ in range(parallel)]
        self.n_ctx = llamacpp.context_length(self.instances[0])
        self.threads_per_instance = per
        self.queue_limit = queue
        self._free = list(self.instances)
        self._waiters: deque[asyncio.Future] = deque()
        self.waiting = 0
        self.busy = 0
        self.served = 0
        self.refused = 0
        self._seconds = 0.0

    @property
    def tokenizer(self):
        """For counting prompts on the event loop: llama.cpp's tokenizer only reads the vocabulary."""
        return self.instances[0]

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the mean request time times the requests ahead, per instance."""
        mean = self._seconds / self.served if self.served else 5.0
        ahead = self.waiting + self.busy
        return max(1, min(120, math.ceil(mean * ahead / len(self.instances))))

    def admit(self) -> Ticket:
        """A place in the queue, or Overloaded at once: never an unbounded wait."""
        if self.waiting >= self.queue_limit and not self._free:
            self.refused += 1
            raise Overloaded(self.retry_after())
        self.waiting += 1
        return Ticket(self)

    async def acquire(self, ticket: Ticket, gone: Callable[[], Awaitable[bool]], poll: float = 0.25):
        """A free instance, first come first served. While waiting, `gone()` is polled so a client
        that disconnected leaves the queue (raises Gone). The caller hands it back with give_back()."""
        try:
            if self._free and not self._waiters:
                return self._take(self._free.pop())
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                while not fut.done():
                    await asyncio.wait({fut}, timeout=poll)  # a timeout leaves `fut` pending
                    if not fut.done() and await gone():
                        raise Gone()
                return self._take(fut.result())
            except BaseException:
                if fut.done() and not fut.cancelled():  # handed an instance while leaving: pass it on
                    self.give_back(fut.result(), took=False)
                else:
                    fut.cancel()
                    if fut in self._waiters:
                        self._waiters.remove(fut)
                raise
        finally:
            ticket.release()

    def _take(self, llm):
        self.busy += 1
        return llm

    def give_back(self, llm, seconds: float = 0.0, took: bool = True) -> None:
        """On the event loop (a generating thread calls it through call_soon_threadsafe)."""
        if took:
            self.busy -= 1
            self.served += 1
            self._seconds += seconds
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(llm)
                return
        self._free.append(llm)

    def stats(self) -> dict:
        return {"instances": len(self.instances), "threads_per_instance": self.threads_per_instance,
                "busy": self.busy, "waiting": self.waiting, "queue": self.queue_limit, "served": self.served,
                "refused": self.refused, "n_ctx": self.n_ctx}

    def close(self) -> None:
        for llm in self.instances:
            llm.close()
