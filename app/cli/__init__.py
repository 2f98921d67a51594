"""`mmrare`: the command line. Each command family lives in its own module and registers its
subcommands here; commands are thin shells over app.services."""

import argparse
import sys
from collections.abc import Sequence

from app.cli import accounts, data, kit, oversight, rejudges, rubrics, service, submit
from app.cli.common import CommandError
from app.config import ConfigurationError, get_settings
from app.errors import DomainError
from app.formats.gold_bundle import GoldBundleError
from app.observability.logs import configure_logging

# Each module adds its subcommands with `register(subparsers)`, in the order --help shows them.
COMMAND_FAMILIES = (service, data, accounts, kit, submit, rubrics, rejudges, oversight)
# Services whose INFO lines are their output; every other command logs warnings only (-v: more).
LONG_RUNNING_COMMANDS = frozenset({"serve", "worker", "demo", "judge-standin"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmrare",
        description="MMRareBench leaderboard service. Settings come from environment variables "
        "(DATABASE_URL, REDIS_URL, JUDGE_BASE_URL, JUDGE_MODEL, JUDGE_API_KEY, "
        "JUDGE_CONCURRENCY, STORAGE_DIR, …; see README).",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log lines: -v adds the libraries' INFO lines (HTTP requests, migrations), "
        "-vv DEBUG",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in COMMAND_FAMILIES:
        family.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(
            settings.log_format,
            verbose=args.verbose,
            service=args.command in LONG_RUNNING_COMMANDS,
        )
        args.handler(args, settings)
    except (CommandError, ConfigurationError, DomainError, GoldBundleError) as exc:
        print(f"mmrare: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
