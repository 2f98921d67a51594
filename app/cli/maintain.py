"""Command family: maintain."""

from app.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Adds this family's subcommands."""
