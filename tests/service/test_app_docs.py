"""Documentation kept true by tests: the README's settings table and error catalogue, and the
Alembic migrations against the models."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from api.service import migrate
from api.service.db import make_engine
from api.service.errors import catalogue
from api.service.models import Base
from api.service.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n### {title}\n")
    end = text.find("\n### ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_lists_every_setting() -> None:
    rows = re.findall(r"^\| `(VICX_[A-Z_]+)` \|", _section("Service settings"), re.M)
    expected = {f"VICX_{name.upper()}" for name in Settings.model_fields}
    assert sorted(rows) == sorted(expected)


def test_readme_lists_every_error_code_with_its_status() -> None:
    rows = re.findall(r"^\| `(E\d{3}_[a-z_]+)` \| (\d{3}) \|", _section("Error catalogue"), re.M)
    expected = {code: spec.status for code, spec in catalogue().items()}
    assert {code: int(status) for code, status in rows} == expected
    assert len(rows) == len(expected)


def test_migrations_build_the_models_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vicx.db'}"
    migrate.upgrade(url)
    migrate.upgrade(url)  # idempotent
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head_revision()
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
