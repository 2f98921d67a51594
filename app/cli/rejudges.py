"""Maintainers' rejudge commands: start, follow, cancel, resume and compare rejudges.

Every change is attributed to the operating-system user (`cli:<user>`) in the audit log. Runs a
command creates are committed first and enqueued after: to the arq workers when REDIS_URL is set,
otherwise `mmrare serve` picks them up on its next reaper pass (REAPER_INTERVAL_SECONDS).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from app.cli.common import (
    CommandError,
    Jobs,
    Subparsers,
    cli_actor,
    run_and_enqueue,
    run_in_session,
    share_arg,
    track_arg,
)
from app.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


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

    _print_view(run_and_enqueue(settings, work))


def cmd_rejudge_list(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import list_rejudges

    views = run_in_session(settings, lambda s: list_rejudges(s, args.limit))
    if not views:
        print("no rejudges yet")
    for view in views:
        _print_view(view)


def cmd_rejudge_status(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import rejudge_view

    _print_view(run_in_session(settings, lambda s: rejudge_view(s, args.id)))


def cmd_rejudge_cancel(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import cancel_rejudge, rejudge_view

    async def work(session: AsyncSession) -> object:
        await cancel_rejudge(session, args.id, actor=cli_actor())
        return await rejudge_view(session, args.id)

    _print_view(run_in_session(settings, work))


def cmd_rejudge_resume(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import rejudge_view, resume_rejudge

    async def work(session: AsyncSession) -> tuple[object, Jobs]:
        started = await resume_rejudge(session, settings, args.id, actor=cli_actor())
        return await rejudge_view(session, args.id), started.jobs

    _print_view(run_and_enqueue(settings, work))


def cmd_rejudge_diff(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rejudge import rejudge_diff

    diff = run_in_session(settings, lambda s: rejudge_diff(s, args.id))
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


def register(subparsers: Subparsers) -> None:
    rejudge = subparsers.add_parser(
        "rejudge",
        help="rescore a track's submissions under a rubric/judge; switch the board when done",
        description="Without an action: start a rejudge of --track. Each submission gets a new "
        "run through the queue (unchanged judge requests are answered by the cache); the track "
        "switches to the new rubric and judge in one transaction when every run is done.",
    )
    rejudge.add_argument("--track", type=track_arg, help="T1, T2, T3 or T4")
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
        type=share_arg,
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
