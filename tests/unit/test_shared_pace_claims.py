"""The messages waiting in one process claim their shared slots together (``jobs.shared_pace``):
one transaction for all who waited while the previous one ran, each caller its own answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from jobs.shared_pace import CLAIM_BATCH, _Claims
from storage.repositories.pace import Slot


class Recorder:
    def __init__(self, *, fail: bool = False) -> None:
        self.batches: list[list[str | None]] = []
        self.fail = fail
        self.release = asyncio.Event()

    async def __call__(self, chats: list[str | None]) -> list[Slot]:
        self.batches.append(list(chats))
        await self.release.wait()
        if self.fail:
            raise ConnectionError("database gone")
        start = 10.0 * len(self.batches)
        return [Slot(True, start + n) for n in range(len(chats))]


async def test_callers_waiting_during_a_claim_share_the_next_one() -> None:
    claim = Recorder()
    claims = _Claims(claim)
    first = asyncio.create_task(claims.slot("c:0"))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(claims.slot(f"c:{n}")) for n in range(1, 6)]
    await asyncio.sleep(0)
    claim.release.set()
    answers = await asyncio.gather(first, *rest)
    assert claim.batches == [["c:0"], ["c:1", "c:2", "c:3", "c:4", "c:5"]]
    assert answers == [Slot(True, 10.0), *(Slot(True, 20.0 + n) for n in range(5))]


async def test_a_caller_who_gave_up_is_left_out_of_the_next_claim() -> None:
    claim = Recorder()
    claims = _Claims(claim)
    first = asyncio.create_task(claims.slot("c:0"))
    await asyncio.sleep(0)
    quitter = asyncio.create_task(claims.slot("c:1"))
    stayer = asyncio.create_task(claims.slot("c:2"))
    await asyncio.sleep(0)
    quitter.cancel()
    claim.release.set()
    await first
    assert await stayer == Slot(True, 20.0)
    assert claim.batches == [["c:0"], ["c:2"]]


async def test_a_failed_claim_reaches_every_caller_of_its_batch_and_the_next_one_runs() -> None:
    claim = Recorder(fail=True)
    claims = _Claims(claim)
    callers = [asyncio.create_task(claims.slot(f"c:{n}")) for n in range(3)]
    await asyncio.sleep(0)
    claim.release.set()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    claim.fail = False
    assert await claims.slot("c:9") == Slot(True, 20.0)


async def test_a_claim_takes_at_most_one_batch_of_callers() -> None:
    claim = Recorder()
    claims = _Claims(claim)
    callers = [asyncio.create_task(claims.slot(None)) for _ in range(CLAIM_BATCH + 3)]
    await asyncio.sleep(0)
    claim.release.set()
    await asyncio.gather(*callers)
    assert [len(batch) for batch in claim.batches] == [CLAIM_BATCH, 3]


@pytest.mark.parametrize("waiting", [1, 4])
async def test_stopping_the_claims_cancels_whoever_still_waits(waiting: int) -> None:
    claim = Recorder()
    claims = _Claims(claim)
    callers = [asyncio.create_task(claims.slot(None)) for _ in range(waiting)]
    await asyncio.sleep(0)
    assert claims._task is not None
    claims._task.cancel()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)


async def test_a_caller_arriving_as_a_claim_task_ends_is_answered_by_the_next_one() -> None:
    claim = Recorder()
    claim.release.set()
    claims = _Claims(claim)
    assert await claims.slot("c:0") == Slot(True, 10.0)
    # the first task has returned; its end is reported to it only on the next turn of the
    # loop, after this caller has started a new task
    assert await claims.slot("c:1") == Slot(True, 20.0)


async def test_the_claims_of_a_run_share_one_hold_and_an_ask_while_it_is_let_go_is_answered() -> (
    None
):
    """The claims one after the other share one hold (PostgreSQL: a pooled connection); a
    caller asking while the run lets its hold go (an await) is answered by a claim after it."""
    claim = Recorder()
    holds: list[str] = []
    letting_go = asyncio.Event()
    let_go = asyncio.Event()

    @contextlib.asynccontextmanager
    async def holding() -> AsyncIterator[None]:
        holds.append("held")
        yield
        letting_go.set()
        await let_go.wait()  # giving the connection back takes a while

    claims = _Claims(claim, holding)
    first = asyncio.create_task(claims.slot("c:0"))
    await asyncio.sleep(0)
    second = asyncio.create_task(claims.slot("c:1"))  # asked while the first claim runs
    await asyncio.sleep(0)
    claim.release.set()
    await letting_go.wait()
    assert (await first, await second) == (Slot(True, 10.0), Slot(True, 20.0))
    assert holds == ["held"]  # two claims, one hold
    late = asyncio.create_task(claims.slot("c:2"))  # asked while the hold is let go
    await asyncio.sleep(0)
    let_go.set()
    assert await asyncio.wait_for(late, 1.0) == Slot(True, 30.0)
    assert holds == ["held", "held"]
