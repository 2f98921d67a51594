"""Prometheus metrics. Two kinds:

* **Process instruments** (judge latency, judge errors by kind, cache hits and misses, items
  judged, judge permits in use) are counted where the work happens, in this process's registry.
  Under `mmrare serve --workers N` every uvicorn worker writes its values to a shared directory
  (prometheus-client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`), and a scrape of any of
  them sums all of them.
* **State gauges** (submissions by state, runs by status and in flight, queue depth, and the
  deployment-wide judge limit's permits in use) are read from the database, the queue and Redis
  at scrape time, so every process reports the same truth.

`render` joins both into one exposition; the API serves it on `/metrics`, a worker on its
`--metrics-port`.
"""

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Judge calls take from tens of milliseconds (a small model) to minutes (a thinking model).
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

JUDGE_LATENCY = Histogram(
    "mmrare_judge_latency_seconds",
    "Time from a judge call's first request getting a slot to its final reply (retries included)",
    buckets=_LATENCY_BUCKETS,
)
JUDGE_ERRORS = Counter(
    "mmrare_judge_errors_total",
    "Judge request failures by kind (timeout, connection, 429, 5xx, malformed, item_rejected, "
    "config, gave_up)",
    ["kind"],
)
CACHE_LOOKUPS = Counter(
    "mmrare_cache_lookups_total",
    "Cache look-ups by cache (verdict: the judge cache; view: the leaderboard views) and result",
    ["cache", "result"],
)
ITEMS_JUDGED = Counter(
    "mmrare_items_judged_total",
    "Items answered, by outcome (verdict, judge_error) and whether from the judge cache",
    ["outcome", "cached"],
)
JUDGE_PERMITS_IN_USE = Gauge(
    "mmrare_judge_permits_in_use",
    "Judge requests in flight from this process (its JUDGE_CONCURRENCY slots in use)",
    multiprocess_mode="livesum",
)


@dataclass(frozen=True)
class StateSnapshot:
    """What the database and the queue say, read at scrape time."""

    submissions_by_state: Mapping[str, int]
    runs_by_status: Mapping[str, int]
    queue_depth: int
    # The deployment-wide judge limit (JUDGE_GLOBAL_CONCURRENCY), when one is set: its size and
    # the permits every process holds now.
    judge_limit: tuple[int, int] | None = None


def render(snapshot: StateSnapshot) -> bytes:
    """The exposition text: this process's (or every worker's) instruments, then the state."""
    return generate_latest(_process_registry()) + generate_latest(_StateRegistry(snapshot))


def _process_registry() -> CollectorRegistry:
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class _StateRegistry(CollectorRegistry):
    def __init__(self, snapshot: StateSnapshot) -> None:
        super().__init__(auto_describe=False)
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot
        submissions = GaugeMetricFamily(
            "mmrare_submissions",
            "Stored submissions by state (accepted, rejected)",
            labels=["state"],
        )
        for state, count in sorted(snapshot.submissions_by_state.items()):
            submissions.add_metric([state], count)
        runs = GaugeMetricFamily("mmrare_runs", "Evaluation runs by status", labels=["status"])
        for status, count in sorted(snapshot.runs_by_status.items()):
            runs.add_metric([status], count)
        in_flight = GaugeMetricFamily(
            "mmrare_runs_in_flight", "Runs being judged now (status judging)"
        )
        in_flight.add_metric([], snapshot.runs_by_status.get("judging", 0))
        depth = GaugeMetricFamily(
            "mmrare_queue_depth",
            "Jobs waiting in the queue (arq's queue with REDIS_URL, else the in-process queue)",
        )
        depth.add_metric([], snapshot.queue_depth)
        yield from (submissions, runs, in_flight, depth)
        if snapshot.judge_limit is not None:
            size, held = snapshot.judge_limit
            limit = GaugeMetricFamily(
                "mmrare_judge_global_permits", "The deployment-wide judge limit's permits"
            )
            limit.add_metric([], size)
            used = GaugeMetricFamily(
                "mmrare_judge_global_permits_in_use",
                "Permits of the deployment-wide judge limit held by all processes now",
            )
            used.add_metric([], held)
            yield from (limit, used)
