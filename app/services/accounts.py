"""Teams and API tokens: a token is printed once and stored only as its sha256."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApiToken, Team
from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import accounts as accounts_repo
from app.repositories.rows import add_row
from app.services.audit import record_event

TOKEN_PREFIX = "mmr_"
_TEAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a team, through one of its tokens."""

    team_id: int
    team_name: str
    token_id: int
    token_prefix: str
    is_admin: bool
    last_used_at: datetime | None = None  # as read when authenticated

    @property
    def label(self) -> str:
        return f"{self.team_name} ({self.token_prefix}…)"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_team(session: AsyncSession, name: str, *, actor: str) -> Team:
    """A new team, recorded in the audit log as `team.create` by `actor`."""
    name = name.strip()
    if not _TEAM_NAME.match(name):
        raise InvalidInput(
            f"team name {name!r} is not allowed; use 1–100 letters, digits, spaces, '.', '_' or '-'"
        )
    if await accounts_repo.get_team_by_name(session, name) is not None:
        raise Conflict(f"team {name!r} already exists")
    team = await add_row(session, Team(name=name))
    await record_event(
        session, actor=actor, action="team.create", target=f"team:{name}", details={"id": team.id}
    )
    return team


async def create_token(
    session: AsyncSession, team_name: str, *, admin: bool, actor: str
) -> tuple[str, ApiToken]:
    """Returns the plain token (show it once) and its stored record."""
    team = await accounts_repo.get_team_by_name(session, team_name)
    if team is None:
        raise NotFound(f"team {team_name!r} does not exist; create it with `mmrare team create`")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = await add_row(
        session,
        ApiToken(
            team_id=team.id,
            token_hash=hash_token(token),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            is_admin=admin,
        ),
    )
    await record_event(
        session,
        actor=actor,
        action="token.create",
        target=f"team:{team.name}",
        details={"token_prefix": record.prefix, "admin": admin},
    )
    return token, record


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    record = await accounts_repo.active_token_by_hash(session, hash_token(token))
    return None if record is None else await _principal(session, record)


async def authenticate_token_id(
    session: AsyncSession, token_id: int
) -> tuple[Principal, str] | None:
    """An active token's principal by the token's id, with the token's fingerprint (its stored
    sha256) that a signed sign-in session is bound to; None when revoked or unknown."""
    if not 0 < token_id < 2**31:  # the id column's range
        return None
    record = await accounts_repo.active_token_by_id(session, token_id)
    return None if record is None else (await _principal(session, record), record.token_hash)


async def _principal(session: AsyncSession, record: ApiToken) -> Principal:
    team = await accounts_repo.get_team(session, record.team_id)
    assert team is not None
    return Principal(
        team.id, team.name, record.id, record.prefix, record.is_admin, record.last_used_at
    )


TOKEN_USE_RESOLUTION = timedelta(minutes=5)
"""A token's `last_used_at` is written at most once per this interval."""


def token_use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token's use should be written down: never recorded, or longer ago than
    TOKEN_USE_RESOLUTION. (Pure: the web edge writes it in a short transaction of its own.)"""
    return last_used_at is None or now - last_used_at >= TOKEN_USE_RESOLUTION


async def record_token_use(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Write the token's last use unless another request already did within the resolution."""
    return await accounts_repo.touch_token(
        session, token_id, now, not_since=now - TOKEN_USE_RESOLUTION
    )
