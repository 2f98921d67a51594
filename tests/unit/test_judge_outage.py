"""The outage backoff schedule and the judge-health record: pure functions of their inputs."""

from datetime import UTC, datetime, timedelta

import pytest

from app.config import Settings
from app.judge.health import BUCKET_SECONDS, WINDOW_SECONDS, JudgeHealth
from app.services.outage import next_try_at, outage_delay

FIRST, CAP = 5.0, 300.0


def test_delays_double_from_the_first_up_to_the_cap() -> None:
    middle = [outage_delay(wait, first=FIRST, cap=CAP, jitter=0.5) for wait in range(1, 10)]
    assert middle == [5, 10, 20, 40, 80, 160, 300, 300, 300]


@pytest.mark.parametrize("wait", [1, 3, 6])
def test_jitter_spreads_a_delay_by_a_fifth_either_way(wait: int) -> None:
    base = FIRST * 2 ** (wait - 1)
    assert outage_delay(wait, first=FIRST, cap=CAP, jitter=0.0) == pytest.approx(0.8 * base)
    assert outage_delay(wait, first=FIRST, cap=CAP, jitter=0.999999) == pytest.approx(1.2 * base)


def test_jitter_never_takes_a_delay_past_the_cap() -> None:
    assert outage_delay(7, first=FIRST, cap=CAP, jitter=0.999) == CAP
    assert outage_delay(7, first=FIRST, cap=CAP, jitter=0.0) == 0.8 * CAP
    assert outage_delay(10_000, first=FIRST, cap=CAP, jitter=0.5) == CAP  # no overflow


def test_there_is_no_wait_zero() -> None:
    with pytest.raises(ValueError, match="wait 1"):
        outage_delay(0, first=FIRST, cap=CAP, jitter=0.5)


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    judge_outage_retry_hours=6,
    judge_outage_first_delay_seconds=FIRST,
    judge_outage_max_delay_seconds=CAP,
)


def test_the_next_try_follows_the_schedule_within_the_spell() -> None:
    assert next_try_at(NOW, NOW, 1, SETTINGS, 0.5) == NOW + timedelta(seconds=5)
    started = NOW - timedelta(hours=1)
    assert next_try_at(NOW, started, 4, SETTINGS, 0.5) == NOW + timedelta(seconds=40)


def test_the_last_try_falls_on_the_bound_and_after_it_there_is_none() -> None:
    started = NOW - timedelta(hours=6) + timedelta(seconds=30)
    assert next_try_at(NOW, started, 20, SETTINGS, 0.5) == started + timedelta(hours=6)
    assert next_try_at(NOW, NOW - timedelta(hours=6), 21, SETTINGS, 0.5) is None


def test_a_zero_bound_never_waits() -> None:
    settings = SETTINGS.model_copy(update={"judge_outage_retry_hours": 0})
    assert next_try_at(NOW, NOW, 1, settings, 0.5) is None


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_health_counts_the_last_five_minutes_and_keeps_the_last_events() -> None:
    clock = Clock(1_000_000.0)
    health = JudgeHealth(clock)
    assert health.snapshot().error_rate is None  # no requests yet
    health.record_success()
    clock.now += 60
    health.record_error("timeout")
    health.record_error("HTTP 503")
    health.record_rejection()  # an answer, neither a success nor an error
    snapshot = health.snapshot()
    assert (snapshot.requests, snapshot.errors, snapshot.error_rate) == (4, 2, 0.5)
    assert snapshot.last_error_kind == "HTTP 503"
    assert snapshot.last_success_at == datetime.fromtimestamp(1_000_000.0, UTC)
    assert snapshot.last_error_at == datetime.fromtimestamp(1_000_060.0, UTC)

    clock.now += WINDOW_SECONDS - 60 + BUCKET_SECONDS  # the success's bucket left the window
    health.record_success()
    snapshot = health.snapshot()
    assert (snapshot.requests, snapshot.errors) == (4, 2)


def test_what_was_not_published_is_handed_over_once_or_put_back() -> None:
    clock = Clock(2_000_000.0)
    health = JudgeHealth(clock)
    health.record_success()
    health.record_error("connection error")
    delta = health.take_unpublished()
    assert delta.counts == {2_000_000: [2, 1]}
    assert delta.last_error == (2_000_000.0, "connection error")
    assert health.take_unpublished().empty()
    health.restore_unpublished(delta)  # the publisher could not reach Redis
    health.record_success()
    again = health.take_unpublished()
    assert again.counts == {2_000_000: [3, 1]} and again.last_success == 2_000_000.0


def test_an_unpublished_record_stays_within_the_window() -> None:
    clock = Clock(3_000_000.0)
    health = JudgeHealth(clock)  # in-process mode: nobody takes the hand-over
    for _ in range(100):
        health.record_success()
        clock.now += 30
    assert len(health.take_unpublished().counts) <= WINDOW_SECONDS // BUCKET_SECONDS
