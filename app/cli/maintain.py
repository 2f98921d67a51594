"""Maintainers' commands: rubric versions, rejudges, human labels, reliability, prompt-injection
flags, the audit log.

Every change is attributed to the operating-system user (`cli:<user>`) in the audit log. Runs a
command creates are committed first and enqueued after: to the arq workers when REDIS_URL is set,
otherwise `mmrare serve` picks them up on its next reaper pass (REAPER_INTERVAL_SECONDS).
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import CommandError, Subparsers
from app.config import Settings
from app.db.session import create_engine, create_session_factory
from app.errors import DomainError
from app.queue import ArqQueue
from app.tracks import Track
from app.unit_of_work import unit_of_work

T = TypeVar("T")
Jobs = Sequence[tuple[int, int]]


def _track(value: str) -> Track:
    try:
        return Track(value.strip().upper())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a track; use one of {', '.join(t.value for t in Track)}"
        ) from None


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError("give a share between 0 and 1, e.g. 0.02")
    return share


def _session_then_enqueue(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[tuple[T, Jobs]]]
) -> T:
    """Run `work` as one unit of work; the runs it returns are enqueued after the commit."""

    async def run() -> T:
        engine = create_engine(settings.database_url)
        queue = _CommandQueue(settings)
        try:
            async with unit_of_work(create_session_factory(engine), queue) as uow:
                result, jobs = await work(uow.session)
                uow.enqueue_runs(jobs)
        except DomainError as exc:
            if exc.details:
                raise _with_details(exc) from None
            raise
        finally:
            await queue.close()
            await engine.dispose()
        if queue.deferred:
            print(
                f"{queue.deferred} run(s) queued; `mmrare serve` (no REDIS_URL) starts them "
                f"within {settings.reaper_interval_seconds}s"
            )
        return result

    return asyncio.run(run())


class _CommandQueue:
    """The queue of a command: the arq workers' (connected on first use) with REDIS_URL;
    without it, runs wait for `mmrare serve`'s reaper and are only counted."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deferred = 0
        self._arq: ArqQueue | None = None

    async def enqueue_run(self, run_id: int, attempt: int) -> None:
        if not self.settings.uses_arq:
            self.deferred += 1
            return
        if self._arq is None:
            from arq import create_pool
            from arq.connections import RedisSettings

            redis = await create_pool(RedisSettings.from_dsn(self.settings.redis_url or ""))
            self._arq = ArqQueue(redis)
        await self._arq.enqueue_run(run_id, attempt)

    async def job_alive(self, run_id: int, attempt: int) -> bool:
        return False  # never asked: commands only enqueue

    async def close(self) -> None:
        if self._arq is not None:
            await self._arq.redis.aclose()


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None


def _session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def wrapped(session: AsyncSession) -> tuple[T, Jobs]:
        return await work(session), ()

    return _session_then_enqueue(settings, wrapped)


def _with_details(error: DomainError) -> CommandError:
    """A domain error for the shell: its message, then one line per detail (line errors)."""
    return CommandError("\n".join([error.message, *(f"  {d}" for d in error.details)]))


# --- rubrics -------------------------------------------------------------------------------


def cmd_rubric_load(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.audit import cli_actor
    from app.services.rubrics import load_rubric

    raw = _read(args.file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{args.file}: not valid UTF-8 (byte {exc.start})") from None
    origin = Path(args.file).name
    loaded = _session(settings, lambda s: load_rubric(s, text, origin=origin, actor=cli_actor()))
    rubric = loaded.rubric
    state = "registered" if loaded.created else "unchanged: already registered"
    print(f"{rubric.track} rubric {rubric.version} {state} ({rubric.title})")
    if loaded.created:
        print(
            f"next: `mmrare rejudge --track {rubric.track} --rubric {rubric.short_version}` "
            "rescores every submission and switches the track when done"
        )


def cmd_rubric_list(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rubrics import list_rubrics

    rows = _session(settings, lambda s: list_rubrics(s, args.track))
    if not rows:
        print("no rubric versions registered; run `mmrare db upgrade`")
        return
    for row in rows:
        mark = "*" if row.active else " "
        print(
            f"{mark} {row.track}  {row.version}  {row.created_at:%Y-%m-%d %H:%M}  "
            f"{row.scored_runs:>5} scored runs  {row.title}"
        )
    print("(* = active)")


def cmd_rubric_activate(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.audit import cli_actor
    from app.services.rubrics import activate_rubric

    result = _session(
        settings,
        lambda s: activate_rubric(s, args.track, args.version, actor=cli_actor(), force=args.force),
    )
    if not result.changed:
        print(f"{result.track} already uses rubric {result.version}")
        return
    print(f"{result.track} now uses rubric {result.version} (was {result.previous[:12]})")
    if result.unscored:
        print(f"{result.unscored} submission(s) without scores under it left the board")


# --- rejudges ------------------------------------------------------------------------------


def _print_view(view: object) -> None:
    from app.services.rejudge import RejudgeView

    assert isinstance(view, RejudgeView)
    r, p = view.rejudge, view.progress
    print(
        f"rejudge {r.id} {r.track}: {r.status}"
        + (" (switched)" if r.switched else "")
        + f" — rubric {r.rubric_version[:12]}, judge {view.judge_model}"
        + (f" (from {r.from_rubric_version[:12]})" if r.from_rubric_version else "")
    )
    print(
        f"  submissions {p.submissions_done}/{p.submissions_total} done"
        f" ({p.submissions_failed} failed, {p.runs_active} running);"
        f" items {p.items_done}/{p.items_total}; cache hits {p.cache_hits};"
        f" judge calls {p.judge_calls}; judge errors {p.judge_errors}"
    )
    if r.error:
        print(f"  {r.error}")


def cmd_rejudge(args: argparse.Namespace, settings: Settings) -> None:
    if args.rejudge_command is not None:
        args.rejudge_handler(args, settings)
        return
    if args.track is None:
        raise CommandError("give --track T1..T4 (or an action: list, status, cancel, resume, diff)")
    from app.services.audit import cli_actor
    from app.services.rejudge import RejudgeRequest, rejudge_view, start_rejudge

    request = RejudgeRequest(
        track=args.track,
        rubric=args.rubric,
        judge_model=args.judge_model,
        submission_ids=tuple(args.submission or ()),
        max_error_share=args.max_error_share,
    )

    async def work(session: AsyncSession) -> tuple[object, Jobs]:
        started = await start_rejudge(session, settings, request, actor=cli_actor())
        return await rejudge_view(session, started.rejudge.id), started.jobs

    _print_view(_session_then_enqueue(settings, work))


def cmd_rejudge_list(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import list_rejudges

    views = _session(settings, lambda s: list_rejudges(s, args.limit))
    if not views:
        print("no rejudges yet")
    for view in views:
        _print_view(view)


def cmd_rejudge_status(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import rejudge_view

    _print_view(_session(settings, lambda s: rejudge_view(s, args.id)))


def cmd_rejudge_cancel(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.audit import cli_actor
    from app.services.rejudge import cancel_rejudge, rejudge_view

    async def work(session: AsyncSession) -> object:
        await cancel_rejudge(session, args.id, actor=cli_actor())
        return await rejudge_view(session, args.id)

    _print_view(_session(settings, work))


def cmd_rejudge_resume(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.audit import cli_actor
    from app.services.rejudge import rejudge_view, resume_rejudge

    async def work(session: AsyncSession) -> tuple[object, Jobs]:
        started = await resume_rejudge(session, settings, args.id, actor=cli_actor())
        return await rejudge_view(session, args.id), started.jobs

    _print_view(_session_then_enqueue(settings, work))


def cmd_rejudge_diff(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import rejudge_diff

    diff = _session(settings, lambda s: rejudge_diff(s, args.id))
    print(
        f"rejudge {diff.rejudge_id} {diff.track}: rubric {str(diff.from_rubric_version)[:12]} → "
        f"{diff.to_rubric_version[:12]}, judge {diff.from_judge_model} → {diff.to_judge_model}; "
        f"{diff.items_changed} of {diff.items_compared} item judgements changed"
    )
    print(f"{'sub':>6} {'model':<28} {'old':>6} {'new':>6} {'Δ':>6} {'rank':>9} {'items Δ':>8}")
    for e in diff.entries:
        old = "–" if e.old_score is None else f"{e.old_score:.1f}"
        new = "–" if e.new_score is None else f"{e.new_score:.1f}"
        delta = "–" if e.delta is None else f"{e.delta:+.1f}"
        rank = f"{e.old_rank or '–'}→{e.new_rank or '–'}"
        print(
            f"{e.submission_id:>6} {e.model[:28]:<28} {old:>6} {new:>6} {delta:>6} {rank:>9} "
            f"{e.items_changed:>8}"
        )


# --- human labels, reliability, audit -------------------------------------------------------


def cmd_labels_import(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.audit import cli_actor
    from app.services.reliability import import_labels

    data = _read(args.file)
    name = Path(args.file).name
    report = _session(settings, lambda s: import_labels(s, data, filename=name, actor=cli_actor()))
    print(
        f"{report.labels} labels imported ({report.created} new, {report.updated} replaced) "
        f"on {report.submissions} submission(s) of {', '.join(report.tracks)} "
        f"by {', '.join(report.raters)}"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def cmd_reliability(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.reliability import reliability_report

    for report in _session(settings, lambda s: reliability_report(s, args.track)):
        print(
            f"{report.track}: rubric {report.rubric_version[:12]}, judge {report.judge_model}; "
            f"{report.labels} human labels ({report.unmatched} without a judge rating)"
        )
        if not report.labels:
            continue
        header = ("dimension", "n", "acc", "κ", "FPR", "prev", "κ human")
        print("  {:<34} {:>4} {:>5} {:>6} {:>5} {:>5} {:>8}".format(*header))
        for d in report.dimensions:
            print(
                f"  {d.dimension:<34} {d.items:>4} {_pct(d.accuracy):>5} {_pct(d.kappa):>6} "
                f"{_pct(d.false_positive_rate):>5} {_pct(d.prevalence):>5} "
                f"{_pct(d.human_kappa):>8}"
            )


def cmd_flags_list(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.screening import flagged_submissions

    entries = _session(settings, lambda s: flagged_submissions(s, args.decision, args.limit))
    if not entries:
        print(f"no flagged submissions ({args.decision})")
        return
    for entry in entries:
        s = entry.screening
        team = f" team {entry.team}" if entry.team else ""
        decided = f" by {s.decided_by}" if s.decided_by else ""
        print(
            f"submission {entry.submission.id}: {entry.model} on {entry.submission.track}{team}"
            f" · {s.flagged_items} flagged item(s) · {entry.state}{decided}"
            f" · rules {s.ruleset_version}"
        )
        for flag in s.flags[: args.items]:
            print(f"  {flag['id']}: {', '.join(flag['rules'])}")
        if len(s.flags) > args.items:
            print(f"  … {len(s.flags) - args.items} more")


def cmd_flags_decide(args: argparse.Namespace, settings: Settings) -> None:
    from app.db.models import FlagDecision
    from app.services.audit import cli_actor
    from app.services.screening import decide

    decision = FlagDecision(args.flags_decision)
    outcome = _session(
        settings, lambda s: decide(s, args.id, decision, actor=cli_actor(), note=args.note)
    )
    count = outcome.screening.flagged_items
    if not outcome.changed:
        print(f"submission {args.id}: flags already {decision.value}; nothing changed")
    elif decision == FlagDecision.CLEARED:
        print(f"submission {args.id}: {count} flag(s) cleared; its team may publish it")
    else:
        extra = " (unpublished)" if outcome.unpublished else ""
        print(f"submission {args.id}: {count} flag(s) upheld; it stays off the board{extra}")


def cmd_audit(args: argparse.Namespace, settings: Settings) -> None:
    from app.repositories import audit as audit_repo

    events = _session(settings, lambda s: audit_repo.recent(s, args.limit))
    for event in events:
        print(
            f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.actor:<30} {event.action:<20} "
            f"{event.target or ''}"
        )
    if not events:
        print("the audit log is empty", file=sys.stderr)


def register(subparsers: Subparsers) -> None:
    """Adds this family's subcommands."""
    rubric = subparsers.add_parser("rubric", help="rubric versions (identity = content hash)")
    actions = rubric.add_subparsers(dest="rubric_command", required=True, metavar="ACTION")
    load = actions.add_parser(
        "load", help="register a rubric file; the same content again is a no-op"
    )
    load.add_argument("file", help="a rubric TOML file (see app/rubrics/T1.toml)")
    load.set_defaults(handler=cmd_rubric_load)
    listing = actions.add_parser("list", help="registered versions, the active ones marked")
    listing.add_argument("--track", type=_track)
    listing.set_defaults(handler=cmd_rubric_list)
    activate = actions.add_parser(
        "activate",
        help="show a track's board under another version now (refused while some board "
        "submission has no score under it; rejudge instead)",
    )
    activate.add_argument("track", type=_track)
    activate.add_argument("version", help="the version, or a unique prefix of it (≥ 4 hex chars)")
    activate.add_argument(
        "--force", action="store_true", help="activate even if unscored submissions leave the board"
    )
    activate.set_defaults(handler=cmd_rubric_activate)

    rejudge = subparsers.add_parser(
        "rejudge",
        help="rescore a track's submissions under a rubric/judge; switch the board when done",
        description="Without an action: start a rejudge of --track. Each submission gets a new "
        "run through the queue (unchanged judge requests are answered by the cache); the track "
        "switches to the new rubric and judge in one transaction when every run is done.",
    )
    rejudge.add_argument("--track", type=_track, help="T1, T2, T3 or T4")
    rejudge.add_argument("--rubric", help="target rubric version or prefix (default: active)")
    rejudge.add_argument("--judge-model", help="target judge model name (default: active)")
    rejudge.add_argument(
        "--submission",
        type=int,
        nargs="+",
        metavar="ID",
        help="only these submissions (the track switches only if no board entry is left unscored)",
    )
    rejudge.add_argument(
        "--max-error-share",
        type=_share,
        help="largest share of judge-error items that still switches (default: "
        "REJUDGE_MAX_ERROR_SHARE)",
    )
    rejudge.set_defaults(handler=cmd_rejudge, rejudge_command=None)
    rejudge_actions = rejudge.add_subparsers(dest="rejudge_command", metavar="ACTION")
    for name, handler, help_text in (
        ("status", cmd_rejudge_status, "progress of one rejudge"),
        ("cancel", cmd_rejudge_cancel, "cancel a running rejudge (the board is untouched)"),
        ("resume", cmd_rejudge_resume, "resume a cancelled or failed rejudge"),
        ("diff", cmd_rejudge_diff, "what a finished rejudge changed"),
    ):
        action = rejudge_actions.add_parser(name, help=help_text)
        action.add_argument("id", type=int)
        action.set_defaults(rejudge_handler=handler)
    recent = rejudge_actions.add_parser("list", help="recent rejudges")
    recent.add_argument("--limit", type=int, default=20)
    recent.set_defaults(rejudge_handler=cmd_rejudge_list)

    labels = subparsers.add_parser("human-labels", help="human reliability labels")
    label_actions = labels.add_subparsers(dest="labels_command", required=True, metavar="ACTION")
    label_import = label_actions.add_parser(
        "import", help="import a JSONL label file (format: docs/maintainers.md)"
    )
    label_import.add_argument("file")
    label_import.set_defaults(handler=cmd_labels_import)

    reliability = subparsers.add_parser(
        "reliability", help="judge-versus-human agreement under the active rubric and judge"
    )
    reliability.add_argument("--track", type=_track)
    reliability.set_defaults(handler=cmd_reliability)

    flags = subparsers.add_parser(
        "flags",
        help="submissions flagged by prompt-injection screening: list, clear, uphold",
        description="Flagged submissions cannot be published until a maintainer clears the "
        "flags (false alarms: the team may publish) or upholds them (the submission stays off "
        "the leaderboard; a published one is unpublished). Decisions go to the audit log.",
    )
    flag_actions = flags.add_subparsers(dest="flags_command", required=True, metavar="ACTION")
    flag_list = flag_actions.add_parser("list", help="flagged submissions, undecided by default")
    flag_list.add_argument(
        "--decision",
        choices=("pending", "cleared", "upheld", "all"),
        default="pending",
        help="which decisions to list (default: pending)",
    )
    flag_list.add_argument("--limit", type=int, default=50, help="at most this many submissions")
    flag_list.add_argument("--items", type=int, default=10, help="flagged items shown per entry")
    flag_list.set_defaults(handler=cmd_flags_list)
    for name, decision, help_text in (
        ("clear", "cleared", "the flags were false alarms: its team may publish it"),
        ("uphold", "upheld", "the predictions address the judge: keep it off the board"),
    ):
        action = flag_actions.add_parser(name, help=help_text)
        action.add_argument("id", type=int, help="the submission id")
        action.add_argument("--note", help="why (kept in the audit log)")
        action.set_defaults(handler=cmd_flags_decide, flags_decision=decision)

    audit = subparsers.add_parser("audit", help="the latest maintainer actions")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(handler=cmd_audit)
