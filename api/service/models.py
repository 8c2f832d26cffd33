"""The service's tables (SQLAlchemy 2). Alembic migrations in api/service/migrations mirror them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class ApiKey(Base):
    """A client's key: only its SHA-256 is stored; ``prefix`` finds the row without the secret."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Batch(Base):
    """One uploaded file and its progress; rows live in :class:`BatchRow`."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None = created in open mode (no key); such batches are visible only in open mode.
    owner_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    file_format: Mapped[str] = mapped_column(String(10))
    encoding: Mapped[str | None] = mapped_column(String(20), nullable=True)
    upload_path: Mapped[str] = mapped_column(Text)
    upload_bytes: Mapped[int] = mapped_column(Integer, default=0)
    text_column: Mapped[str] = mapped_column(String(300))
    score_column: Mapped[str | None] = mapped_column(String(300), nullable=True)
    score_scale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    date_column: Mapped[str | None] = mapped_column(String(300), nullable=True)
    metadata_columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # queued -> running -> done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    rows_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The unfiltered breakdown, computed once when the batch finishes.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class BatchRow(Base):
    """One input row's outcome. (batch_id, row_no) is the key, so a resumed chunk cannot
    write a row twice."""

    __tablename__ = "batch_rows"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based data row number
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # PII-redacted when enabled
    sentiment: Mapped[str | None] = mapped_column(String(10), nullable=True)
    topics: Mapped[str | None] = mapped_column(String(200), nullable=True)  # ";"-joined
    detractor_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    date: Mapped[str | None] = mapped_column(String(10), nullable=True)  # ISO yyyy-mm-dd
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_batch_rows_batch_sentiment", "batch_id", "sentiment"),)
