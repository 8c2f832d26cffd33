"""``vicx bench-service``: the batch targets, measured on a real `vicx serve`.

1. Upload to done: a CSV of N real comments (default 100,000) posted to POST /v1/batches, polled
   until the batch is done.
2. Breakdowns of a big batch (default 200,000 rows): GET /v1/batches/{id}/breakdown unfiltered
   and filtered, the comment drill-down and the columns list, first call and warm calls.

The server is started here (open mode, loopback, a temporary data directory) with the shipped
models, exactly as `vicx serve` runs; registered on import by ``api/cli.py``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Final

import httpx
import typer

from api.cli import app
from nlp.markdown import markdown_table

BRANCHES: Final = (
    "Quận 1", "Quận 3", "Quận 7", "Thủ Đức", "Bình Thạnh", "Gò Vấp",
    "Cầu Giấy", "Đống Đa", "Hoàn Kiếm", "Hải Châu", "Ninh Kiều", "Lê Chân",
)  # fmt: skip
CHANNELS: Final = ("app", "website", "tổng đài", "quầy")
START: Final = date(2025, 11, 1)
SEED: Final = 7
WARM_CALLS: Final = 5
START_TIMEOUT_SECONDS: Final = 180.0


def _comments() -> list[tuple[str, int | None]]:
    """The team's real multi-industry comments (gold + training set), with NPS where known."""
    from nlp.labelled import load_gold, load_training_set

    comments = [*load_gold(), *load_training_set()]
    return [(c.text, c.nps) for c in comments]


def write_feedback_csv(path: Path, rows: int) -> Path:
    """``rows`` survey answers: real comments cycled, an NPS score, a date over a year, a branch
    and a channel (reproducible)."""
    rng = random.Random(SEED)
    comments = _comments()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "chi_nhanh", "kenh", "ngay", "nps", "y_kien"])
        for index in range(rows):
            text, score = comments[index % len(comments)]
            nps = score if score is not None else rng.randint(0, 10)
            day = START + timedelta(days=rng.randrange(365))
            writer.writerow(
                [index + 1, rng.choice(BRANCHES), rng.choice(CHANNELS), day.isoformat(), nps, text]
            )
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(data_dir: Path, **settings: str) -> Iterator[str]:
    """`vicx serve` on a free loopback port in open mode; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VICX_")}
    env |= {"VICX_STATE_DIR": str(data_dir), "VICX_OPEN_MODE": "true", "VICX_ACCESS_LOG": "false"}
    env |= {f"VICX_{name.upper()}": value for name, value in settings.items()}
    vicx = Path(sys.executable).with_name("vicx")
    log = (data_dir.parent / "server.log").open("ab")
    process = subprocess.Popen(
        [str(vicx), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"vicx serve exited; see {log.name}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"vicx serve not ready after {START_TIMEOUT_SECONDS}s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass
class BatchRun:
    rows: int
    upload_bytes: int
    upload_seconds: float
    upload_to_done_seconds: float
    processing_seconds: float
    rows_per_second: float
    batch_id: str = ""


def run_batch(client: httpx.Client, csv_path: Path) -> BatchRun:
    """Upload and poll until done; times from the client's view (upload start to done seen)."""
    started = time.perf_counter()
    with csv_path.open("rb") as handle:
        response = client.post(
            "/v1/batches",
            files={"file": (csv_path.name, handle, "text/csv")},
            data={"text_column": "y_kien", "score_column": "nps", "date_column": "ngay"},
        )
    uploaded = time.perf_counter()
    if response.status_code != 202:
        raise RuntimeError(f"upload refused: {response.status_code} {response.text}")
    batch = response.json()
    while batch["status"] not in ("done", "failed"):
        time.sleep(0.2)
        batch = client.get(f"/v1/batches/{batch['id']}").json()
    done = time.perf_counter()
    if batch["status"] != "done":
        raise RuntimeError(f"batch failed: {batch['error']}")
    processing = _seconds_between(batch["started_at"], batch["finished_at"])
    return BatchRun(
        rows=batch["rows_done"],
        upload_bytes=batch["upload_bytes"],
        upload_seconds=round(uploaded - started, 2),
        upload_to_done_seconds=round(done - started, 2),
        processing_seconds=round(processing, 2),
        rows_per_second=round(batch["rows_done"] / (done - started)),
        batch_id=batch["id"],
    )


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


@dataclass
class QueryTiming:
    query: str
    first_ms: float
    warm_median_ms: float
    warm_max_ms: float
    rows_selected: int | None = None


def time_queries(client: httpx.Client, batch_id: str) -> list[QueryTiming]:
    base = f"/v1/batches/{batch_id}"
    queries: list[tuple[str, str, dict[str, Any]]] = [
        ("breakdown, unfiltered", f"{base}/breakdown", {}),
        ("breakdown, 1 branch", f"{base}/breakdown", {"filter": "chi_nhanh:Quận 1"}),
        (
            "breakdown, 2 branches + channel + 3 months",
            f"{base}/breakdown",
            {
                "filter": ["chi_nhanh:Quận 1", "chi_nhanh:Cầu Giấy", "kenh:app"],
                "date_from": "2026-01-01",
                "date_to": "2026-03-31",
            },
        ),
        (
            "comments, process negative, by detractor",
            f"{base}/comments",
            {"topic": "process", "polarity": "negative", "sort": "detractor", "page_size": 50},
        ),
        ("comments, text search 'nhân viên'", f"{base}/comments", {"q": "nhân viên"}),
        ("columns", f"{base}/columns", {}),
    ]
    timings = []
    for label, path, params in queries:
        samples = []
        selected = None
        for _ in range(1 + WARM_CALLS):
            started = time.perf_counter()
            response = client.get(path, params=params)
            samples.append(1000 * (time.perf_counter() - started))
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            body = response.json()
            selected = body.get("rows", body.get("total"))
        warm = samples[1:]
        timings.append(
            QueryTiming(
                query=label,
                first_ms=round(samples[0], 1),
                warm_median_ms=round(statistics.median(warm), 1),
                warm_max_ms=round(max(warm), 1),
                rows_selected=selected,
            )
        )
    return timings


@dataclass
class CliReference:
    """`vicx analyze --jobs N` on the same file: the analysis cost without the service."""

    rows: int
    seconds: float
    rows_per_second: float


def run_cli_reference(csv_path: Path, rows: int, jobs: int, output: Path) -> CliReference:
    vicx = Path(sys.executable).with_name("vicx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VICX_")}
    started = time.perf_counter()
    command = [str(vicx), "analyze", str(csv_path), "-c", "y_kien", "-o", str(output)]
    subprocess.run(
        [*command, "--jobs", str(jobs), "--quiet"],
        env=env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    return CliReference(rows=rows, seconds=round(seconds, 2), rows_per_second=round(rows / seconds))


@dataclass
class ServiceBench:
    machine: str
    batch_jobs: int
    chunk_rows: int
    load_average: str = ""
    reference: CliReference | None = None
    batch: BatchRun | None = None
    big_batch: BatchRun | None = None
    queries: list[QueryTiming] = field(default_factory=list)


def _markdown(report: ServiceBench) -> str:
    lines = [
        f"machine: {report.machine}; VICX_BATCH_JOBS={report.batch_jobs}, "
        f"VICX_BATCH_CHUNK_ROWS={report.chunk_rows}; load average before/after: "
        f"{report.load_average}",
        "",
    ]
    batches: list[tuple[object, ...]] = [
        (
            name,
            f"{run.rows:,}",
            f"{run.upload_bytes / 1e6:.1f}",
            run.upload_seconds,
            run.upload_to_done_seconds,
            run.processing_seconds,
            f"{run.rows_per_second:,}",
        )
        for name, run in (("upload to done", report.batch), ("breakdown batch", report.big_batch))
        if run is not None
    ]
    if report.reference is not None:
        ref = report.reference
        batches.append(
            (
                f"reference: `vicx analyze --jobs {report.batch_jobs}`, same file",
                f"{ref.rows:,}",
                "-",
                "-",
                ref.seconds,
                "-",
                f"{ref.rows_per_second:,}",
            )
        )
    batch_headers = [
        "batch",
        "rows",
        "upload MB",
        "upload s",
        "upload to done s",
        "processing s",
        "rows/s",
    ]
    lines.append(markdown_table(batch_headers, batches))
    if report.queries:
        rows = report.big_batch.rows if report.big_batch else 0
        query_headers = [
            f"request on the {rows:,}-row batch",
            "rows selected",
            "first ms",
            "warm median ms",
            "warm max ms",
        ]
        queries = [
            (
                q.query,
                "-" if q.rows_selected is None else q.rows_selected,
                q.first_ms,
                q.warm_median_ms,
                q.warm_max_ms,
            )
            for q in report.queries
        ]
        lines += ["", markdown_table(query_headers, queries)]
    return "\n".join(lines)


@app.command("bench-service")
def bench_service(
    batch_rows: Annotated[
        int, typer.Option(min=0, help="Rows of the upload-to-done batch (0: skip).")
    ] = 100_000,
    breakdown_rows: Annotated[
        int, typer.Option(min=0, help="Rows of the batch whose breakdowns are timed (0: skip).")
    ] = 200_000,
    batch_jobs: Annotated[
        int, typer.Option(min=1, help="VICX_BATCH_JOBS of the server (analysis processes).")
    ] = 2,
    chunk_rows: Annotated[int, typer.Option(min=100, help="VICX_BATCH_CHUNK_ROWS.")] = 2000,
    reference: Annotated[
        bool,
        typer.Option(help="Also time `vicx analyze --jobs N` on the upload-to-done file."),
    ] = True,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
) -> None:
    """Measure the batch targets on a real server: a 100,000-row batch from upload to done, and
    breakdown/drill-down latency on a 200,000-row batch. Prints a Markdown table."""
    report = ServiceBench(
        machine=f"{os.cpu_count()} cores", batch_jobs=batch_jobs, chunk_rows=chunk_rows
    )
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="vicx-bench-service-") as tmp:
        root = Path(tmp)
        settings = {
            "batch_jobs": str(batch_jobs),
            "batch_chunk_rows": str(chunk_rows),
            "max_upload_bytes": str(2 * 1024**3),
        }
        with (
            running_server(root / "data", **settings) as base,
            httpx.Client(base_url=base, timeout=300) as client,
        ):
            if batch_rows:
                path = write_feedback_csv(root / f"feedback_{batch_rows}.csv", batch_rows)
                report.batch = run_batch(client, path)
                typer.echo(f"upload to done: {asdict(report.batch)}", err=True)
                if reference:
                    report.reference = run_cli_reference(
                        path, batch_rows, batch_jobs, root / "reference.jsonl"
                    )
                    typer.echo(f"reference: {asdict(report.reference)}", err=True)
            if breakdown_rows:
                path = write_feedback_csv(root / f"feedback_{breakdown_rows}.csv", breakdown_rows)
                report.big_batch = run_batch(client, path)
                typer.echo(f"breakdown batch: {asdict(report.big_batch)}", err=True)
                report.queries = time_queries(client, report.big_batch.batch_id)
    report.load_average = f"{before:.1f}/{os.getloadavg()[0]:.1f}"
    typer.echo(_markdown(report))
    if json_out is not None:
        json_out.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
