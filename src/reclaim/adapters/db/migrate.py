"""Run the schema migrations (Alembic) programmatically; no ``alembic.ini`` at run time.

The migration scripts are package data under ``reclaim/adapters/db/migrations``; ``upgrade``
builds the Alembic ``Config`` in code and hands Alembic an open connection through
``config.attributes["connection"]`` (read by ``migrations/env.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """The Alembic configuration of reclaim's migrations, built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The revision the newest migration script brings the schema to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert isinstance(head, str), "reclaim's migrations have exactly one head"
    return head


def upgrade(engine: Engine) -> None:
    """Bring the database of ``engine`` to the newest schema, in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
