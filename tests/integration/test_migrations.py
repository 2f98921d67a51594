"""Alembic migrations: they apply, they round-trip, and they build exactly what the models declare.

The model/migration comparison is the `alembic check` of CI (warehouse's `bin/db-check`): a model
change without a migration, or a migration that drifts from the models, fails here.
"""

from __future__ import annotations

import os
import pprint
import subprocess
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.db import models  # noqa: F401  (registers every table on Base.metadata)
from app.db.base import Base
from app.db.migrate import alembic_config, upgrade
from app.db.session import sync_database_url
from app.tracks import Track
from tests.support import MMRARE


def _head() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations must have exactly one head, found {heads}"
    return heads[0]


def _schema_diff(sync_url: str) -> list[Any]:
    """What autogenerate would write if asked for a new migration: empty when all agree."""
    engine = sa.create_engine(sync_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _current_revision(sync_url: str) -> str | None:
    engine = sa.create_engine(sync_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _table_names(sync_url: str) -> set[str]:
    engine = sa.create_engine(sync_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _assert_no_diff(sync_url: str) -> None:
    diff = _schema_diff(sync_url)
    assert diff == [], "models and migrations disagree:\n" + pprint.pformat(diff, width=100)


def test_migrations_have_a_single_head() -> None:
    _head()


# SQLite -------------------------------------------------------------------------------------


def test_upgrade_head_on_sqlite(sqlite_url: str) -> None:
    assert _current_revision(sqlite_url) == _head()
    assert {table.name for table in Base.metadata.sorted_tables} <= _table_names(sqlite_url)


def test_models_match_migrations_on_sqlite(sqlite_url: str) -> None:
    _assert_no_diff(sqlite_url)


def test_downgrade_base_then_upgrade_head_on_sqlite(sqlite_url: str) -> None:
    config = alembic_config(sqlite_url)

    command.downgrade(config, "base")
    assert _current_revision(sqlite_url) is None
    assert _table_names(sqlite_url) <= {"alembic_version"}, "downgrade left tables behind"

    command.upgrade(config, "head")
    assert _current_revision(sqlite_url) == _head()
    _assert_no_diff(sqlite_url)


# PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.integration
def test_upgrade_head_on_postgres(postgres_url: str) -> None:
    sync_url = sync_database_url(postgres_url)
    assert _current_revision(sync_url) == _head()
    assert {table.name for table in Base.metadata.sorted_tables} <= _table_names(sync_url)


@pytest.mark.integration
def test_models_match_migrations_on_postgres(postgres_url: str) -> None:
    _assert_no_diff(sync_database_url(postgres_url))


@pytest.mark.integration
def test_downgrade_base_then_upgrade_head_on_postgres(empty_postgres_url: str) -> None:
    # A database of its own: the session database stays migrated for every other test.
    sync_url = sync_database_url(empty_postgres_url)
    upgrade(empty_postgres_url)
    config = alembic_config(empty_postgres_url)

    command.downgrade(config, "base")
    assert _current_revision(sync_url) is None
    assert _table_names(sync_url) <= {"alembic_version"}, "downgrade left tables behind"

    command.upgrade(config, "head")
    assert _current_revision(sync_url) == _head()
    _assert_no_diff(sync_url)


@pytest.mark.integration
def test_hosts_migrating_at_once_queue_on_the_advisory_lock(empty_postgres_url: str) -> None:
    """Three hosts start together on a fresh database, each running `mmrare db upgrade`: all
    succeed, one after another, and the schema is at head once (without the lock, the losers of
    the race fail on tables the winner is creating)."""
    env = {**os.environ, "DATABASE_URL": empty_postgres_url}
    hosts = [
        subprocess.Popen(
            [str(MMRARE), "db", "upgrade"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [host.communicate(timeout=120)[0] for host in hosts]
    assert [host.returncode for host in hosts] == [0, 0, 0], "\n---\n".join(outputs)

    sync_url = sync_database_url(empty_postgres_url)
    engine = sa.create_engine(sync_url)
    try:
        with engine.connect() as connection:
            versions = connection.scalars(sa.text("SELECT version_num FROM alembic_version"))
            assert list(versions) == [_head()]
            tracks = connection.scalars(sa.text("SELECT track FROM track_configs ORDER BY track"))
            assert list(tracks) == [track.value for track in Track]
    finally:
        engine.dispose()
    _assert_no_diff(sync_url)
