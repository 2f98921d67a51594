"""`mmrare team create` and `mmrare token create`: a token is printed once, stored as a hash,
and the creation of both is in the audit log."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.db.models import ApiToken, AuditEvent
from app.db.session import create_engine, create_session_factory
from app.services.accounts import Principal, authenticate, hash_token
from tests.support import mmrare_on as mmrare

pytestmark = pytest.mark.integration


def lookup(database_url: str, token: str) -> tuple[Principal | None, list[ApiToken], list[str]]:
    async def run() -> tuple[Principal | None, list[ApiToken], list[str]]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                principal = await authenticate(session, token)
                tokens = list(await session.scalars(select(ApiToken)))
                events = list(await session.scalars(select(AuditEvent.action)))
                return principal, tokens, events
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_team_and_token_creation(sqlite_url: str) -> None:
    created = mmrare(sqlite_url, "team", "create", "Rare Lab")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("team 'Rare Lab' created (id 1)")
    again = mmrare(sqlite_url, "team", "create", "Rare Lab")
    assert again.returncode == 1 and again.stderr == "mmrare: team 'Rare Lab' already exists\n"

    issued = mmrare(sqlite_url, "token", "create", "--team", "Rare Lab", "--admin")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()  # alone on stdout, for $(…)
    assert token.startswith("mmr_") and len(token) > 40
    assert "maintainer (admin) token" in issued.stderr and "shown only now" in issued.stderr

    principal, tokens, events = lookup(sqlite_url, token)
    assert principal is not None and principal.team_name == "Rare Lab" and principal.is_admin
    (record,) = tokens
    assert record.token_hash == hash_token(token) and token not in record.token_hash
    assert events == ["team.create", "token.create"]

    missing = mmrare(sqlite_url, "token", "create", "--team", "Nobody")
    assert missing.returncode == 1
    assert missing.stderr == (
        "mmrare: team 'Nobody' does not exist; create it with `mmrare team create`\n"
    )
