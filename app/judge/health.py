"""The judge's health as one process saw it: every HTTP attempt the client made, in 10-second
buckets over the last five minutes, plus the last success and the last error.

The `JudgeClient` feeds one `JudgeHealth` per process. What has not been handed on yet is kept
apart, so a publisher (app.services.judge_health: Redis when REDIS_URL is set) can add every
worker's attempts into one shared record; in-process mode reads this record directly.

An error is an attempt that found the judge unreachable or overloaded (timeout, connection
error, 429, 5xx) or refusing every request (401, 403, 404, 405, 407); a request the judge
rejected on its own merits (400, 413, 422) or a malformed reply is an answer, not an error.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

BUCKET_SECONDS = 10
WINDOW_SECONDS = 300


def bucket_of(epoch: float) -> int:
    """The start (epoch seconds) of the bucket holding `epoch`."""
    return int(epoch // BUCKET_SECONDS) * BUCKET_SECONDS


def window_buckets(now: float) -> range:
    """The buckets of the last WINDOW_SECONDS, the current one included."""
    current = bucket_of(now)
    return range(current - WINDOW_SECONDS + BUCKET_SECONDS, current + 1, BUCKET_SECONDS)


@dataclass(frozen=True)
class HealthSnapshot:
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_kind: str | None  # "timeout", "connection", "HTTP 429", "HTTP 503", "HTTP 401", …
    requests: int  # HTTP attempts in the last five minutes
    errors: int  # of which errors

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


def snapshot_of(
    counts: Mapping[int, tuple[int, int]],
    last_success: float | None,
    last_error: tuple[float, str] | None,
    now: float,
) -> HealthSnapshot:
    """A snapshot from (requests, errors) per bucket start and the last events (epoch seconds)."""
    window = window_buckets(now)
    in_window = [counts[b] for b in window if b in counts]
    return HealthSnapshot(
        last_success_at=_when(last_success),
        last_error_at=_when(last_error[0]) if last_error else None,
        last_error_kind=last_error[1] if last_error else None,
        requests=sum(r for r, _ in in_window),
        errors=sum(e for _, e in in_window),
    )


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@dataclass
class HealthDelta:
    """Attempts recorded since the last hand-over: what a publisher adds to the shared record."""

    counts: dict[int, list[int]] = field(default_factory=dict)  # bucket → [requests, errors]
    last_success: float | None = None
    last_error: tuple[float, str] | None = None

    def empty(self) -> bool:
        return not self.counts and self.last_success is None and self.last_error is None


class JudgeHealth:
    """One process's record (not thread-safe; the client lives on one event loop)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[int, list[int]] = {}
        self._last_success: float | None = None
        self._last_error: tuple[float, str] | None = None
        self._pending = HealthDelta()

    def record_success(self) -> None:
        now = self._clock()
        self._count(now, error=False)
        self._last_success = self._pending.last_success = now

    def record_error(self, kind: str) -> None:
        now = self._clock()
        self._count(now, error=True)
        self._last_error = self._pending.last_error = (now, kind)

    def record_rejection(self) -> None:
        """The judge answered, refusing this one request (400, 413, 422): neither kind."""
        self._count(self._clock(), error=False)

    def snapshot(self) -> HealthSnapshot:
        counts = {b: (r, e) for b, (r, e) in self._counts.items()}
        return snapshot_of(counts, self._last_success, self._last_error, self._clock())

    def take_unpublished(self) -> HealthDelta:
        delta, self._pending = self._pending, HealthDelta()
        return delta

    def restore_unpublished(self, delta: HealthDelta) -> None:
        """Put back a hand-over that could not be published (e.g. Redis was restarting)."""
        for bucket, (requests, errors) in delta.counts.items():
            slot = self._pending.counts.setdefault(bucket, [0, 0])
            slot[0] += requests
            slot[1] += errors
        if self._pending.last_success is None:
            self._pending.last_success = delta.last_success
        if self._pending.last_error is None:
            self._pending.last_error = delta.last_error

    def _count(self, now: float, *, error: bool) -> None:
        bucket = bucket_of(now)
        for counts in (self._counts, self._pending.counts):
            slot = counts.get(bucket)
            if slot is None:  # a new bucket: drop those that left the window (nobody reads them)
                oldest = window_buckets(now)[0]
                for stale in [b for b in counts if b < oldest]:
                    del counts[stale]
                slot = counts[bucket] = [0, 0]
            slot[0] += 1
            slot[1] += int(error)
