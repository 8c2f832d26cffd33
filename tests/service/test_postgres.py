"""The same schema and service on a real PostgreSQL server (started by the ``postgres_url``
fixture; skipped with the reason when PostgreSQL is not installed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from api.service import migrate
from api.service.auth import create_key, find_key
from api.service.db import make_engine, make_sessionmaker
from api.service.models import Base
from tests.service.conftest import MakeService
from tests.service.test_batches import upload, wait_done

pytestmark = pytest.mark.slow


def test_migrations_build_the_models_schema(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)
    migrate.upgrade(postgres_url)  # idempotent
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head_revision()
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with make_sessionmaker(engine)() as session:
            created = create_key(session, "pg")
            found = find_key(session, created.secret)
            assert found is not None and found.key_id == created.id
    finally:
        engine.dispose()


def test_the_service_runs_on_postgresql(make_service: MakeService, postgres_url: str) -> None:
    server = make_service(database_url=postgres_url, queue_workers="0")
    assert not (server.data_dir / "vicx.db").exists()
    with server.client() as http:
        assert http.get("/readyz").json()["database"] == "ok"
        response = http.post("/v1/analyze", json={"text": "Nhân viên thân thiện, phòng sạch"})
        assert response.status_code == 200
        assert response.json()["results"][0]["sentiment"] == "positive"
        assert http.get("/metrics").status_code == 200


def test_a_batch_runs_and_pages_on_postgresql(
    make_service: MakeService, postgres_url: str, tmp_path: Path
) -> None:
    """Upload -> worker -> breakdown -> comments page, the database functions (the text cut in
    SQL) included, on PostgreSQL rather than SQLite."""
    long_text = "Phòng sạch, lễ tân dễ thương. " * 400  # 12,000 characters: cut on the page
    path = tmp_path / "pg.csv"
    path.write_text(f'comment\n"{long_text}"\nGiá hơi cao\n', encoding="utf-8")
    server = make_service(database_url=postgres_url)
    with server.client() as http:
        response = upload(http, path, text_column="comment")
        assert response.status_code == 202, response.text
        batch = wait_done(http, response.json()["id"])
        assert (batch["status"], batch["rows_done"]) == ("done", 2)
        page = http.get(f"/v1/batches/{batch['id']}/comments").json()
    by_row = {item["row_no"]: item for item in page["items"]}
    assert len(by_row[1]["text"]) == 10_000 and by_row[1]["text_truncated"] is True
    assert (by_row[2]["text"], by_row[2]["text_truncated"]) == ("Giá hơi cao", False)
