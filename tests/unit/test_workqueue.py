"""The work queue: de-duplicated keys, one worker per key, delayed retries."""

from __future__ import annotations

import asyncio

from staticsite.machinery.workqueue import Backoff, WorkQueue


def test_a_key_added_twice_waits_once() -> None:
    async def scenario() -> list[str]:
        queue: WorkQueue[str] = WorkQueue()
        queue.add("a")
        queue.add("a")
        queue.add("b")
        return [await queue.get(), await queue.get(), str(len(queue))]

    assert asyncio.run(scenario()) == ["a", "b", "0"]


def test_a_key_added_while_processed_comes_back_after_done() -> None:
    async def scenario() -> tuple[int, str]:
        queue: WorkQueue[str] = WorkQueue()
        queue.add("a")
        key = await queue.get()
        queue.add("a")
        waiting_meanwhile = len(queue)
        queue.done(key)
        return waiting_meanwhile, await queue.get()

    assert asyncio.run(scenario()) == (0, "a")


def test_a_delayed_key_arrives_after_its_delay() -> None:
    async def scenario() -> tuple[int, str]:
        queue: WorkQueue[str] = WorkQueue()
        queue.add_after("a", 0.05)
        before = len(queue)
        return before, await asyncio.wait_for(queue.get(), timeout=1)

    assert asyncio.run(scenario()) == (0, "a")


def test_closing_cancels_delayed_keys() -> None:
    async def scenario() -> int:
        queue: WorkQueue[str] = WorkQueue()
        queue.add_after("a", 0.01)
        queue.close()
        await asyncio.sleep(0.05)
        return len(queue)

    assert asyncio.run(scenario()) == 0


def test_backoff_doubles_up_to_a_cap_and_forget_resets_it() -> None:
    backoff: Backoff[str] = Backoff(base=1, cap=5)

    delays = [backoff.next_delay("a") for _ in range(5)]
    backoff.forget("a")

    assert delays == [1, 2, 4, 5, 5]
    assert backoff.next_delay("a") == 1
