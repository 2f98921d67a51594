"""Maintainers' oversight commands: human labels, judge reliability, prompt-injection flags and
the audit log.

Every change is attributed to the operating-system user (`cli:<user>`) in the audit log.
"""

import argparse
import sys
from pathlib import Path

from app.cli.common import (
    Subparsers,
    add_command_group,
    cli_actor,
    read_file,
    run_in_session,
    track_arg,
)
from app.config import Settings


def cmd_labels_import(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.reliability import import_labels

    data = read_file(args.file)
    name = Path(args.file).name
    report = run_in_session(
        settings, lambda s: import_labels(s, data, filename=name, actor=cli_actor())
    )
    print(
        f"{report.labels} labels imported ({report.created} new, {report.updated} replaced) "
        f"on {report.submissions} submission(s) of {', '.join(report.tracks)} "
        f"by {', '.join(report.raters)}"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def cmd_reliability(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.reliability import reliability_report

    for report in run_in_session(settings, lambda s: reliability_report(s, args.track)):
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
                f"  {d.name:<34} {d.items:>4} {_pct(d.accuracy):>5} {_pct(d.kappa):>6} "
                f"{_pct(d.false_positive_rate):>5} {_pct(d.prevalence):>5} "
                f"{_pct(d.human_kappa):>8}"
            )


def cmd_flags_list(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.screening import flagged_submissions

    entries = run_in_session(settings, lambda s: flagged_submissions(s, args.decision, args.limit))
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
    from app.services.screening import decide

    decision = FlagDecision(args.flags_decision)
    outcome = run_in_session(
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

    events = run_in_session(settings, lambda s: audit_repo.recent(s, args.limit))
    for event in events:
        print(
            f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.actor:<30} {event.action:<20} "
            f"{event.target or ''}"
        )
    if not events:
        print("the audit log is empty", file=sys.stderr)


def register(subparsers: Subparsers) -> None:
    label_actions = add_command_group(subparsers, "human-labels", help="human reliability labels")
    label_import = label_actions.add_parser(
        "import", help="import a JSONL label file (format: docs/maintainers.md)"
    )
    label_import.add_argument("file")
    label_import.set_defaults(handler=cmd_labels_import)

    reliability = subparsers.add_parser(
        "reliability", help="judge-versus-human agreement under the active rubric and judge"
    )
    reliability.add_argument("--track", type=track_arg)
    reliability.set_defaults(handler=cmd_reliability)

    flag_actions = add_command_group(
        subparsers,
        "flags",
        help="submissions flagged by prompt-injection screening: list, clear, uphold",
        description="Flagged submissions cannot be published until a maintainer clears the "
        "flags (false alarms: the team may publish) or upholds them (the submission stays off "
        "the leaderboard; a published one is unpublished). Decisions go to the audit log.",
    )
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
