"""Alembic, driven from code so `mmrare db upgrade` and the tests need no ini file."""

import functools

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from app.resources import resource_path

# The PostgreSQL advisory lock every migration run holds for its transaction (migrations/env.py),
# so hosts that all run `mmrare db upgrade` at start-up migrate one after another: the first
# applies the revisions, the others then find the schema at head. ("mmrare" in ASCII.)
MIGRATION_LOCK_KEY = 0x6D6D72617265


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_path("migrations")))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


@functools.cache
def head_revision() -> str:
    """The revision the migrations shipped with this code end at."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the connected database is at (None before the first migration)."""
    return MigrationContext.configure(connection).get_current_revision()
