"""Accounts: teams and their API tokens (run by a maintainer, against the database)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.common import Subparsers, add_command_group, cli_actor, run_in_session
from app.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def cmd_team_create(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.accounts import create_team

    team = run_in_session(settings, lambda s: create_team(s, args.name, actor=cli_actor()))
    print(
        f"team {team.name!r} created (id {team.id}); give it a token with "
        f"`mmrare token create --team {team.name!r}`"
    )


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.accounts import create_token

    async def work(session: AsyncSession) -> tuple[str, str]:
        token, record = await create_token(session, args.team, admin=args.admin, actor=cli_actor())
        return token, record.prefix

    token, prefix = run_in_session(settings, work)
    kind = "maintainer (admin) token" if args.admin else "token"
    print(
        f"{kind} {prefix}… for team {args.team!r}; it is shown only now (stored as a hash), "
        "so keep it somewhere safe:",
        file=sys.stderr,
    )
    print(token)  # alone on stdout: `export MMRARE_TOKEN=$(mmrare token create --team X)`


def register(subparsers: Subparsers) -> None:
    team_actions = add_command_group(subparsers, "team", help="teams that submit predictions")
    create = team_actions.add_parser("create", help="create a team")
    create.add_argument("name", help="1–100 letters, digits, spaces, '.', '_' or '-'")
    create.set_defaults(handler=cmd_team_create)

    token_actions = add_command_group(subparsers, "token", help="API tokens of teams")
    token_create = token_actions.add_parser(
        "create",
        help="create a token for a team and print it once (only its hash is stored)",
    )
    token_create.add_argument("--team", required=True, help="the team's name")
    token_create.add_argument(
        "--admin",
        action="store_true",
        help="a maintainer token: maintainer endpoints, any team's submissions, no upload limit",
    )
    token_create.set_defaults(handler=cmd_token_create)
