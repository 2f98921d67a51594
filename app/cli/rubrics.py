"""Maintainers' rubric commands: register a rubric version, list them, activate one.

Every change is attributed to the operating-system user (`cli:<user>`) in the audit log.
"""

import argparse
from pathlib import Path

from app.cli.common import (
    CommandError,
    Subparsers,
    add_command_group,
    cli_actor,
    read_file,
    run_in_session,
    track_arg,
)
from app.config import Settings


def cmd_rubric_load(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rubrics import load_rubric

    raw = read_file(args.file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{args.file}: not valid UTF-8 (byte {exc.start})") from None
    origin = Path(args.file).name
    loaded = run_in_session(
        settings, lambda s: load_rubric(s, text, origin=origin, actor=cli_actor(), note=args.note)
    )
    rubric = loaded.rubric
    state = "registered" if loaded.created else "unchanged: already registered"
    print(f"{rubric.track} rubric {rubric.version} {state} ({rubric.title})")
    if args.note and not loaded.created:
        print("the note was not stored: a version keeps the note it was first loaded with")
    if loaded.created:
        print(
            f"next: `mmrare rejudge --track {rubric.track} --rubric {rubric.short_version}` "
            "rescores every submission and switches the track when done"
        )


def cmd_rubric_list(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rubrics import list_rubrics

    rows = run_in_session(settings, lambda s: list_rubrics(s, args.track))
    if not rows:
        print("no rubric versions registered; run `mmrare db upgrade`")
        return
    for row in rows:
        mark = "*" if row.active else " "
        print(
            f"{mark} {row.track}  {row.version}  {row.created_at:%Y-%m-%d %H:%M}  "
            f"{row.scored_runs:>5} scored runs  {row.title}"
        )
        if row.note:
            print(f"      note: {row.note}")
    print("(* = active)")


def cmd_rubric_activate(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.rubrics import activate_rubric

    result = run_in_session(
        settings,
        lambda s: activate_rubric(s, args.track, args.version, actor=cli_actor(), force=args.force),
    )
    if not result.changed:
        print(f"{result.track} already uses rubric {result.version}")
        return
    print(f"{result.track} now uses rubric {result.version} (was {result.previous[:12]})")
    if result.unscored:
        print(f"{result.unscored} submission(s) without scores under it left the board")


def register(subparsers: Subparsers) -> None:
    actions = add_command_group(
        subparsers, "rubric", help="rubric versions (identity = content hash)"
    )
    load = actions.add_parser(
        "load", help="register a rubric file; the same content again is a no-op"
    )
    load.add_argument("file", help="a rubric TOML file (see app/rubrics/T1.toml)")
    load.add_argument(
        "--note", help="what changed and why; kept with the version, shown in `rubric list`"
    )
    load.set_defaults(handler=cmd_rubric_load)
    listing = actions.add_parser("list", help="registered versions, the active ones marked")
    listing.add_argument("--track", type=track_arg)
    listing.set_defaults(handler=cmd_rubric_list)
    activate = actions.add_parser(
        "activate",
        help="show a track's board under another version now (refused while some board "
        "submission has no score under it; rejudge instead)",
    )
    activate.add_argument("track", type=track_arg)
    activate.add_argument("version", help="the version, or a unique prefix of it (≥ 4 hex chars)")
    activate.add_argument(
        "--force", action="store_true", help="activate even if unscored submissions leave the board"
    )
    activate.set_defaults(handler=cmd_rubric_activate)
