"""Write a stream in batches bounded by size and by age, whichever fills first.

The judging job streams item results into `write_in_batches`: a result waits at most
`max_seconds` (or until `max_items` others join it) before it is written, so a worker killed at
any moment loses only the results of the last `max_seconds` — plus the calls still in flight —
however slow the judge is. The source keeps being read while a batch is written, so a slow
write never holds up the judge calls behind it.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

# How long a stopping job may take to write what it judged (a worker's SIGTERM grace period in
# deploy/ is longer than this).
STOP_WRITE_SECONDS = 10.0


class _End:
    """Marks the end of the source in the hand-over queue."""


_END = _End()


async def write_in_batches(
    source: AsyncIterator[T],
    write: Callable[[list[T]], Awaitable[None]],
    *,
    max_items: int,
    max_seconds: float,
) -> None:
    """Read `source` to its end, handing its items to `write` in order, one batch at a time.

    A batch is written as soon as it holds `max_items`, or `max_seconds` after its first item
    arrived, and at the end. If `write` raises, reading stops (the reading task is cancelled,
    which closes an async generator source) and the exception propagates. If `source` raises,
    the items read before it are written first, then its exception propagates. If the caller is
    cancelled (a worker stopping on SIGTERM), reading stops and every item already read is
    written, within `STOP_WRITE_SECONDS`, before the cancellation goes on.
    """
    if max_items < 1 or max_seconds <= 0:
        raise ValueError("a batch needs max_items ≥ 1 and max_seconds > 0")
    loop = asyncio.get_running_loop()
    # (arrival time, item), then _END or the source's exception
    handed: asyncio.Queue[tuple[float, T] | _End | Exception] = asyncio.Queue()

    async def read() -> None:
        try:
            async for item in source:
                handed.put_nowait((loop.time(), item))
        except Exception as exc:
            handed.put_nowait(exc)
        else:
            handed.put_nowait(_END)

    reader = asyncio.create_task(read())
    batch: list[T] = []
    due = 0.0  # loop time by which the current batch must be written: its oldest + max_seconds
    try:
        while True:
            try:
                async with asyncio.timeout_at(due if batch else None):
                    entry = await handed.get()
            except TimeoutError:
                await write(batch)
                batch = []
                continue
            while True:  # take whatever else is ready, without waiting
                if not isinstance(entry, tuple):
                    if batch:
                        await write(batch)
                    if isinstance(entry, Exception):
                        raise entry
                    return
                arrived, item = entry
                if not batch:
                    due = arrived + max_seconds
                batch.append(item)
                if len(batch) >= max_items or handed.empty():
                    break
                entry = handed.get_nowait()
            if len(batch) >= max_items or loop.time() >= due:
                await write(batch)
                batch = []
    except asyncio.CancelledError:
        await _stop_reading(reader)
        await _write_what_was_read(batch, handed, write)
        raise
    finally:
        await _stop_reading(reader)


async def _stop_reading(reader: asyncio.Task[None]) -> None:
    reader.cancel()  # closes the source: judge calls still in flight are cancelled
    with contextlib.suppress(asyncio.CancelledError):
        await reader


async def _write_what_was_read(
    batch: list[T],
    handed: "asyncio.Queue[tuple[float, T] | _End | Exception]",
    write: Callable[[list[T]], Awaitable[None]],
) -> None:
    """Judged is paid for: on the way out, write the batch being built (a write cut short by the
    cancellation rolled back, so it is written again) and whatever else the reader handed over."""
    while not handed.empty():
        entry = handed.get_nowait()
        if isinstance(entry, tuple):
            batch.append(entry[1])
    if not batch:
        return
    try:
        async with asyncio.timeout(STOP_WRITE_SECONDS):
            await write(batch)
    except Exception:  # the stop goes on: these items are judged again by the next job
        log.warning("could not write %s judged items while stopping", len(batch), exc_info=True)
