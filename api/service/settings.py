"""Service settings, read from ``VICX_*`` environment variables (one table in README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything `vicx serve` and `vicx worker` can be told; defaults run with no configuration."""

    model_config = SettingsConfigDict(env_prefix="VICX_", extra="ignore")

    state_dir: Path = Field(
        default=Path("vicx-data"),
        description="Folder for the SQLite database, the job queue, uploads and rollups.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db "
        "(default: SQLite file state_dir/vicx.db).",
    )
    model_dir: Path | None = Field(
        default=None, description="Model bundles folder (default: the shipped models)."
    )
    host: str = Field(default="127.0.0.1", description="Address `vicx serve` binds.")
    port: int = Field(default=8000, description="Port `vicx serve` binds.")
    open_mode: bool = Field(
        default=False,
        description="Accept requests without an API key (local use only; logged at start).",
    )
    max_texts_per_request: int = Field(
        default=1000, description="Most texts one POST /v1/analyze may carry."
    )
    max_text_chars: int = Field(
        default=10_000, description="Longest text POST /v1/analyze accepts (characters)."
    )
    max_request_bytes: int = Field(
        default=5_000_000, description="Largest JSON request body (bytes) on any route."
    )
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, description="Largest batch upload (bytes); 413 beyond it."
    )
    batch_chunk_rows: int = Field(
        default=2000, description="Rows analysed and committed together in a batch."
    )
    batch_jobs: int = Field(
        default=2,
        description="Processes each batch worker analyses with (like `vicx analyze --jobs`); "
        "1 analyses inside the server process.",
    )
    queue_workers: int = Field(
        default=1, description="Batch consumers started inside `vicx serve` (0: none)."
    )
    redact_pii: bool = Field(
        default=True,
        description="Redact phone numbers, e-mails and ID/card numbers in stored comments.",
    )
    rate_limit_per_minute: int = Field(
        default=0, description="Requests per minute per API key (0: unlimited)."
    )
    log_level: str = Field(default="info", description="Logging level.")
    access_log: bool = Field(
        default=True, description="One log line per HTTP request (uvicorn's access log)."
    )

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'vicx.db').resolve()}"

    @property
    def queue_path(self) -> Path:
        return self.state_dir / "queue.db"

    @property
    def uploads_dir(self) -> Path:
        return self.state_dir / "uploads"

    @property
    def rollups_dir(self) -> Path:
        return self.state_dir / "rollups"

    def ensure_dirs(self) -> None:
        for folder in (self.state_dir, self.uploads_dir, self.rollups_dir):
            folder.mkdir(parents=True, exist_ok=True)
