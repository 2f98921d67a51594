"""The evaluation-run state machine: one transition table, applied as compare-and-set."""

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    JUDGING = "judging"
    WAITING = "waiting"  # for the judge after an outage: the maintenance pass retries it
    SCORED = "scored"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FailureKind(StrEnum):
    SERVICE = "service"  # judge down, misconfigured judge: not the submitter's fault
    INPUT = "input"  # the stored file or gold no longer fits: the submitter's or maintainer's


TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.JUDGING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.JUDGING: frozenset(
        {RunStatus.SCORED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.WAITING}
    ),
    # Woken at its next try (stored items are kept), or cancelled by its team.
    RunStatus.WAITING: frozenset({RunStatus.QUEUED, RunStatus.CANCELLED}),
    RunStatus.FAILED: frozenset({RunStatus.QUEUED}),  # re-queued without re-uploading
    RunStatus.CANCELLED: frozenset({RunStatus.QUEUED}),  # resumed; stored items are kept
    RunStatus.SCORED: frozenset(),
}

# Unfinished: cancellable, counted by the quota and the rejudge window, looked at by the reaper.
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.JUDGING, RunStatus.WAITING})


class IllegalTransition(Exception):
    def __init__(self, current: RunStatus, target: RunStatus) -> None:
        super().__init__(f"a {current} run cannot become {target}")
        self.current = current
        self.target = target


def check_transition(current: RunStatus, target: RunStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
