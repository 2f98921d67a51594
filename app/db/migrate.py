"""Alembic, driven from code so `mmrare db upgrade` and the tests need no ini file."""

from alembic import command
from alembic.config import Config

from app.resources import resource_path


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_path("migrations")))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
