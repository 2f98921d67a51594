"""Command family: accounts."""

from app.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Adds this family's subcommands."""
