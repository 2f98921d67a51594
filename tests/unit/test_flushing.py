"""write_in_batches: a batch is written when full or when its oldest item is max_seconds old."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from app.services.flushing import write_in_batches
from tests.support import wait_for


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.written_at: list[float] = []

    async def write(self, batch: list[int]) -> None:
        self.batches.append(list(batch))
        self.written_at.append(time.monotonic())


async def test_a_full_batch_is_written_at_once_and_the_rest_at_the_end() -> None:
    async def source() -> AsyncIterator[int]:
        for i in range(7):
            yield i

    recorder = Recorder()
    await write_in_batches(source(), recorder.write, max_items=3, max_seconds=60)
    assert recorder.batches == [[0, 1, 2], [3, 4, 5], [6]]


async def test_an_item_waits_at_most_max_seconds_while_the_source_is_slow() -> None:
    gate = asyncio.Event()
    arrived: list[float] = []

    async def source() -> AsyncIterator[int]:
        arrived.append(time.monotonic())
        yield 1
        await gate.wait()  # the judge is slow: nothing more for a long time
        yield 2

    recorder = Recorder()
    task = asyncio.create_task(
        write_in_batches(source(), recorder.write, max_items=100, max_seconds=0.05)
    )

    async def written() -> bool:
        return bool(recorder.batches)

    await wait_for(written, 5, interval=0.01, message="the first batch")
    assert recorder.batches == [[1]]  # written by age, long before the source went on
    assert recorder.written_at[0] - arrived[0] >= 0.05
    gate.set()
    await task
    assert recorder.batches == [[1], [2]]


async def test_items_read_before_the_source_fails_are_written_then_the_error_raised() -> None:
    async def source() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise RuntimeError("judge gone")

    recorder = Recorder()
    with pytest.raises(RuntimeError, match="judge gone"):
        await write_in_batches(source(), recorder.write, max_items=100, max_seconds=60)
    assert recorder.batches == [[1, 2]]


async def test_a_failing_write_stops_and_closes_the_source() -> None:
    closed = asyncio.Event()

    async def source() -> AsyncIterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
                await asyncio.sleep(0)
        finally:
            closed.set()

    async def refuse(batch: list[int]) -> None:
        raise LookupError("fenced off")

    with pytest.raises(LookupError):
        await write_in_batches(source(), refuse, max_items=2, max_seconds=60)
    assert closed.is_set()


async def test_nonsense_bounds_are_refused() -> None:
    async def source() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(ValueError):
        await write_in_batches(source(), Recorder().write, max_items=0, max_seconds=1)


async def test_a_cancelled_writer_writes_everything_read_then_stops() -> None:
    """A worker's SIGTERM cancels the job: the results already judged are written on the way
    out, the source is closed (its calls in flight cancelled), and the cancellation goes on."""
    read_all = asyncio.Event()
    closed = asyncio.Event()

    async def source() -> AsyncIterator[int]:
        try:
            for i in range(5):
                yield i
            read_all.set()
            await asyncio.Event().wait()  # calls still in flight, never answered
            yield 99
        finally:
            closed.set()

    recorder = Recorder()
    task = asyncio.create_task(
        write_in_batches(source(), recorder.write, max_items=100, max_seconds=60)
    )
    await asyncio.wait_for(read_all.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(i for batch in recorder.batches for i in batch) == [0, 1, 2, 3, 4]
    assert closed.is_set()
