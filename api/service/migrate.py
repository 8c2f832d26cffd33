"""Alembic migrations, applied on start by `vicx serve`, `vicx worker` and `vicx keys`.

The migration scripts live next to this module (``migrations/``), so an installed wheel can
upgrade its database without an ``alembic.ini``. Concurrent starts (a server and a worker on a
fresh database) are serialised: a file lock for SQLite, an advisory lock for PostgreSQL.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from api.service.db import make_engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
#: Arbitrary but fixed: the key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY: Final = 0x76696378


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    database = make_url(url).database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_suffix(".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (idempotent; safe to run concurrently)."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            with _sqlite_file_lock(url), engine.begin() as connection:
                command.upgrade(alembic_config(connection), revision)
        else:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                    )
                command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()
    logger.info("database schema at %s", revision)
