"""``vicx serve``, ``vicx worker``, ``vicx keys`` and ``vicx loadtest``: the HTTP service from
the command line. Registered on import (``api/cli.py`` imports this module)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli import app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

keys_app = typer.Typer(help="Create, list and revoke API keys (stored hashed).")
app.add_typer(keys_app, name="keys")

logger = logging.getLogger("api.service")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: VICX_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind (default: VICX_PORT or 8000).")
    ] = None,
    open_mode: Annotated[
        bool,
        typer.Option(
            "--open",
            help="Accept requests without an API key (like VICX_OPEN_MODE=true): local use only.",
        ),
    ] = False,
) -> None:
    """Run the HTTP API (and the embedded batch worker) with the bundled models.

    Needs no configuration: data goes to ./vicx-data (SQLite + job queue). Every VICX_* setting
    is listed in README, 'Service settings'. Example: vicx serve --port 8000
    """
    import uvicorn

    from api.service.app import create_app
    from api.service.settings import Settings

    settings = Settings()
    overrides: dict[str, object] = {
        k: v for k, v in {"host": host, "port": port}.items() if v is not None
    }
    if open_mode:
        overrides["open_mode"] = True
    settings = settings.model_copy(update=overrides)
    _configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=settings.access_log,
        timeout_graceful_shutdown=10,
    )


@app.command()
def worker() -> None:
    """Run a batch-queue consumer on its own (more throughput next to `vicx serve`)."""
    from api.service import jobs
    from api.service.settings import Settings

    settings = Settings()
    _configure_logging(settings.log_level)
    jobs.run_worker(settings)


@contextmanager
def _sessions() -> Iterator[Session]:
    from api.service import migrate
    from api.service.db import make_engine, make_sessionmaker
    from api.service.settings import Settings

    settings = Settings()
    settings.ensure_dirs()
    migrate.upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key, e.g. 'crm-sync'.")],
) -> None:
    """Create a key and print it ONCE on stdout (only its hash is stored).

    Example: KEY=$(vicx keys create crm-sync)
    """
    from api.service.auth import create_key

    with _sessions() as session:
        created = create_key(session, name)
    typer.echo(created.secret)
    typer.echo(
        f"created key {created.id} '{created.name}' (prefix {created.prefix}); it is shown "
        "only now: store it. Send it as 'Authorization: Bearer <key>'.",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List keys: id, name, prefix, created, revoked (never the keys themselves)."""
    from api.service.auth import list_keys

    with _sessions() as session:
        rows = list_keys(session)
    typer.echo("id\tname\tprefix\tcreated\trevoked")
    for row in rows:
        revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "-"
        created = row.created_at.isoformat(timespec="seconds")
        typer.echo(f"{row.id}\t{row.name}\t{row.prefix}\t{created}\t{revoked}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The id from `vicx keys list`.")],
) -> None:
    """Revoke a key (a running server stops accepting it within seconds)."""
    from api.service.auth import revoke_key

    with _sessions() as session:
        row = revoke_key(session, key_id)
    if row is None:
        typer.echo(f"error: no key with id {key_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked key {row.id} '{row.name}'", err=True)


@app.command()
def loadtest(
    url: Annotated[str, typer.Option(help="Base URL on loopback, e.g. http://127.0.0.1:8000.")],
    key: Annotated[str | None, typer.Option(help="API key (omit for an open-mode server).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Concurrent clients.")] = 20,
    seconds: Annotated[float, typer.Option(min=1, max=600, help="How long to run.")] = 60,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    batch_file: Annotated[
        Path | None,
        typer.Option(help="Also upload this CSV to /v1/batches every --batch-every seconds."),
    ] = None,
    batch_text_column: Annotated[str, typer.Option(help="Text column of --batch-file.")] = (
        "comment"
    ),
    batch_every: Annotated[float, typer.Option(min=0.5, help="Seconds between uploads.")] = 10,
    server_pid: Annotated[
        int | None, typer.Option(help="Sample this server process's memory every second.")
    ] = None,
) -> None:
    """POST one Vietnamese comment per request to /v1/analyze from N clients for S seconds;
    report requests, errors, p50/p95/p99 latency and throughput. Loopback URLs only.

    Mixed load: --batch-file uploads a CSV every --batch-every seconds meanwhile and waits for
    every batch to finish; --server-pid reports the server's memory at start, peak and end."""
    import json

    from api.loadtest import BatchLoad, LoadTestError, run_loadtest

    batch = (
        BatchLoad(batch_file, batch_text_column, batch_every) if batch_file is not None else None
    )
    try:
        report = run_loadtest(
            url,
            key=key,
            concurrency=concurrency,
            seconds=seconds,
            batch=batch,
            server_pid=server_pid,
        )
    except LoadTestError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(report.summary())
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
