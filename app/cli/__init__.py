"""`mmrare`: the command line. Each command family lives in its own module and registers its
subcommands here; commands are thin shells over app.services."""

import argparse
import logging
import sys
from collections.abc import Sequence

from app.cli import accounts, data, kit, oversight, rejudges, rubrics, service, submit
from app.cli.common import CommandError
from app.config import get_settings
from app.errors import DomainError
from app.formats.gold_bundle import GoldBundleError

# Each module adds its subcommands with `register(subparsers)`, in the order --help shows them.
COMMAND_FAMILIES = (service, data, accounts, kit, submit, rubrics, rejudges, oversight)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmrare",
        description="MMRareBench leaderboard service. Settings come from environment variables "
        "(DATABASE_URL, REDIS_URL, JUDGE_BASE_URL, JUDGE_MODEL, JUDGE_API_KEY, "
        "JUDGE_CONCURRENCY, STORAGE_DIR, …; see README).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in COMMAND_FAMILIES:
        family.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request at INFO: one line per judge call in a worker, and noise around
    # every command's own output.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # alembic announces each of its plugins at INFO when it is imported, before any work.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        args.handler(args, get_settings())
    except (CommandError, DomainError, GoldBundleError) as exc:
        print(f"mmrare: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
