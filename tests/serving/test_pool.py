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


@pytest.mark.parametrize("stream", [True, False])
def test_a_cancelled_generation_stops_early_and_frees_its_instance(pool, stream):
    """The cancel is set inside the generation after its 3rd token (a client gone at a known point):
    a stream stops within 2 more chunks, a whole reply ends at the forced end-of-turn, where the same
    request uncancelled runs to max_tokens. Either way the instance is back in the pool."""
    import llama_cpp
    from llama_cpp import LogitsProcessorList

    llm0 = pool.tokenizer
    eos = llm0.token_eos()
    ends = [t for t in range(llm0.n_vocab()) if llama_cpp.llama_vocab_is_eog(llm0._model.vocab, t)]

    def call_cancelling_after(n: int | None):
        def call(llm, cancel):
            seen = []

            def no_natural_end(input_ids, scores):  # the uncancelled answer runs to max_tokens on any model
                seen.append(1)
                if len(seen) == n:
                    cancel.set()
                scores[ends] = -float("inf")
                return scores

            return llm.create_completion("Olive lives in", max_tokens=60, stream=stream, temperature=0,
                                         logits_processor=LogitsProcessorList([no_natural_end,
                                                                               cancel.processor(eos)]))
        return call

    async def run(n: int | None) -> int:
        async def present() -> bool:
            return False

        gen = Generation(pool, await pool.acquire(pool.admit(), present), call_cancelling_after(n))
        tokens = 0
        while True:
            kind, item = await asyncio.wait_for(gen.next(), timeout=60)
            assert kind != "error", item
            if kind == "reply":
                tokens = item["usage"]["completion_tokens"]
                break
            if kind == "end":
                break
            tokens += 1
        for _ in range(100):  # the thread hands the instance back through the loop
            if pool.busy == 0:
                break
            await asyncio.sleep(0.05)
        assert (pool.busy, len(pool._free)) == (0, 1), "the instance is back"
        return tokens

    uncancelled = asyncio.run(run(None))
    assert uncancelled > 8, f"the reference answer ended by itself after {uncancelled} tokens"
    cancelled = asyncio.run(run(4))
    assert cancelled <= 5, f"cancelled at token 4, it went on to {cancelled} (uncancelled: {uncancelled})"
