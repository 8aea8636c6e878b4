"""The instance pool on the tiny run's real GGUF: a client that leaves the queue gives its place back,
and a cancelled generation stops early and frees its instance (what a closed browser tab does)."""

import asyncio

import pytest

from zerollm.server.generation import Generation
from zerollm.server.pool import Gone, ModelPool, Overloaded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pool(released):
    from zerollm.serving import resolve

    p = ModelPool(resolve("latest", released["work"]), parallel=1, threads=1, queue=1)
    yield p
    p.close()


def test_a_client_that_leaves_the_queue_frees_its_place(pool):
    async def scenario():
        async def present() -> bool:
            return False

        held = await pool.acquire(pool.admit(), present)  # the only instance, busy
        leaving = pool.admit()
        with pytest.raises(Overloaded):  # queue 1: full
            pool.admit()
        left = asyncio.Event()

        async def gone() -> bool:
            return left.is_set()

        waiter = asyncio.ensure_future(pool.acquire(leaving, gone))
        await asyncio.sleep(0.3)
        assert pool.waiting == 1 and not waiter.done()
        left.set()
        with pytest.raises(Gone):
            await asyncio.wait_for(waiter, timeout=5)
        assert pool.waiting == 0, "the departed client's place is free again"
        next_one = asyncio.ensure_future(pool.acquire(pool.admit(), present))
        await asyncio.sleep(0.3)
        assert not next_one.done()
        pool.give_back(held)  # the instance goes to the next in line, not to the one who left
        assert await asyncio.wait_for(next_one, timeout=5) is held
        pool.give_back(held)
        assert (pool.busy, pool.waiting) == (0, 0)

    asyncio.run(scenario())


def test_a_cancelled_generation_stops_early_and_frees_its_instance(pool):
    from llama_cpp import LogitsProcessorList

    eos = pool.tokenizer.token_eos()

    def call(llm, cancel):
        return llm.create_completion("Olive lives in", max_tokens=100, stream=True, temperature=0,
                                     logits_processor=LogitsProcessorList([cancel.processor(eos)]))

    async def scenario() -> tuple[int, int, int]:
        async def present() -> bool:
            return False

        gen = Generation(pool, await pool.acquire(pool.admit(), present), call)
        chunks = 0
        while True:
            kind, item = await asyncio.wait_for(gen.next(), timeout=60)
            assert kind != "error", item
            if kind == "end":
                break
            chunks += 1
            if chunks == 3:
                gen.cancel.set()
        for _ in range(100):  # the thread hands the instance back through the loop
            if pool.busy == 0:
                break
            await asyncio.sleep(0.05)
        return chunks, pool.busy, len(pool._free)

    chunks, busy, free = asyncio.run(scenario())
    assert 3 <= chunks <= 5, f"cancelled after 3 chunks, it went on for {chunks}"
    assert (busy, free) == (0, 1)
