"""Loading data: hidden gold bundles and the paper's reported results."""

import argparse
from pathlib import Path

from app.cli.common import Subparsers, add_command_group, run_in_session
from app.config import Settings


def cmd_gold_import(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.gold_import import import_gold_bundle
    from app.storage import build_store

    store = build_store(settings)
    result = run_in_session(settings, lambda s: import_gold_bundle(s, store, Path(args.path)))
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(result.track_counts.items()))
    verb = "imported as new" if result.created else "unchanged: already stored as"
    print(
        f"{result.item_count} gold items ({counts}) {verb} gold version {result.version_id} "
        f"(digest {result.digest[:12]})"
    )


def cmd_seed_reported(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.reported import read_csv, seed_reported

    text = read_csv(Path(args.csv)) if args.csv else None
    report = run_in_session(settings, lambda s: seed_reported(s, text))
    print(f"reported entries: {report.created} added, {report.updated} updated")


def register(subparsers: Subparsers) -> None:
    gold_actions = add_command_group(subparsers, "gold", help="hidden gold sets")
    gold_import = gold_actions.add_parser(
        "import", help="import a gold JSONL bundle (see docs/formats.md); same bundle = no change"
    )
    gold_import.add_argument("path", help="the bundle's JSONL file, or its directory")
    gold_import.set_defaults(handler=cmd_gold_import)

    seed = subparsers.add_parser(
        "seed-reported", help="load the paper's reported results (Tables 2–3) as reported entries"
    )
    seed.add_argument("--csv", help="a CSV with the same columns (default: the bundled copy)")
    seed.set_defaults(handler=cmd_seed_reported)
