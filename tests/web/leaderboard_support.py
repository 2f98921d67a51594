"""Helpers for the leaderboard and analysis tests: a seeded database and an in-process client.

The app runs with its real lifespan (engine, configuration) against a migrated SQLite file; the
client talks ASGI directly, so a test needs no port and no thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.session import create_engine, create_session_factory
from app.services.configuration import ensure_track_configuration
from app.services.reported import seed_reported
from app.tracks import Track
from app.unit_of_work import transaction
from app.web.app import create_app
from tests.leaderboard_fixture import JudgedSpec, add_judged, seed_small_world

Seeder = Callable[[AsyncSession], Awaitable[Any]]


def settings_for(database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    """Settings for a test app; every request looks for changes (no recheck interval)."""
    values: dict[str, Any] = {"leaderboard_recheck_seconds": 0.0, **extra}
    return Settings(database_url=database_url, storage_dir=tmp_path / "uploads", **values)


async def run_in_session(settings: Settings, work: Seeder) -> Any:
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


async def seed(settings: Settings, *, reported: bool = True, world: bool = True) -> dict[str, int]:
    async def work(session: AsyncSession) -> dict[str, int]:
        await ensure_track_configuration(session, settings)
        if reported:
            await seed_reported(session)
        return await seed_small_world(session) if world else {}

    result: dict[str, int] = await run_in_session(settings, work)
    return result


async def seed_older_t2_rubric(settings: Settings) -> str:
    """An older T2 rubric version (the bundled one plus a comment) under which Gamma-Med scored
    33.0 (30–36); returns the version id."""
    from app.repositories import judging as judging_repo
    from app.rubrics.loader import bundled_rubric, parse_rubric

    old = parse_rubric(bundled_rubric(Track.T2).source + "\n# an older wording\n", origin="test")

    async def older(session: AsyncSession) -> None:
        await judging_repo.ensure_rubric_version(session, old)
        await add_judged(
            session,
            JudgedSpec("Gamma-Med", Track.T2, 33.0, ci=(30.0, 36.0), rubric_version=old.version),
        )

    await run_in_session(settings, older)
    return old.version


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell)
