"""Response bodies of the batch routes (``BatchPublic`` ...), named for their role."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

BatchStatus = Literal["queued", "running", "done", "failed"]
Polarity = Literal["positive", "neutral", "negative"]


class RowErrorPublic(BaseModel):
    """A row that could not be used in full; its analysis is kept when it exists."""

    row_no: int = Field(description="1-based data row number in the uploaded file.")
    code: str = Field(description="E106 score, E109 date, E500 analysis failed.")
    message: str


class BatchErrorPublic(BaseModel):
    """Why a whole batch failed (the file turned out unreadable part-way, ...)."""

    code: str
    message: str


class BatchLinks(BaseModel):
    self: str
    results: str
    breakdown: str
    comments: str
    columns: str


class BatchPublic(BaseModel):
    """A batch and its progress. ``rows_total`` is exact once processing starts (CSV/JSONL)
    or ends (XLSX); ``row_errors`` lists the first rows with a problem."""

    id: str
    name: str
    filename: str = Field(description="The uploaded file's name, sanitised (a label only).")
    file_format: Literal["csv", "xlsx", "jsonl"]
    encoding: str | None
    upload_bytes: int
    text_column: str
    score_column: str | None
    score_scale: str | None = Field(description="nps, csat, ces or stars (given or inferred).")
    date_column: str | None
    metadata_columns: list[str]
    status: BatchStatus
    rows_total: int | None
    rows_done: int
    rows_failed: int = Field(description="Rows stored with an error code (see row_errors).")
    progress: float | None = Field(description="rows_done / rows_total, 0..1.")
    error: BatchErrorPublic | None
    row_errors: list[RowErrorPublic] | None = Field(
        default=None, description="First rows with a problem (GET /v1/batches/{id} only)."
    )
    row_errors_truncated: bool = False
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: BatchLinks


class BatchList(BaseModel):
    batches: list[BatchPublic] = Field(description="Newest first.")
    total: int
    limit: int
    offset: int


class HighlightSpan(BaseModel):
    """Where an evidence word sits in ``text`` (character offsets, end exclusive)."""

    topic: str
    start: int
    end: int
    text: str


class CommentPublic(BaseModel):
    row_no: int
    text: str | None = Field(
        description="As stored (PII redacted when the server redacts), cut to the first "
        "10,000 characters the Analyzer reads; the results download has the whole cell."
    )
    text_truncated: bool = Field(default=False, description="True when `text` was cut.")
    score: float | None
    date: str | None
    meta: dict[str, str]
    sentiment: Polarity | None
    topics: list[str]
    topic_sentiments: dict[str, Polarity]
    detractor_probability: float | None
    evidence: dict[str, list[str]]
    highlights: list[HighlightSpan]
    result: dict[str, Any] | None = Field(description="The full result (Result.to_dict()).")
    error_code: str | None
    error_message: str | None


class CommentPage(BaseModel):
    total: int = Field(description="Comments matching the filters and q.")
    page: int
    page_size: int
    sort: Literal["row", "detractor", "score"]
    q: str | None
    filters: dict[str, Any]
    items: list[CommentPublic]
