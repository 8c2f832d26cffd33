"""`vicx loadtest`: loopback only, and a short real run against the shared server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.loadtest import LoadTestError, check_loopback, percentile
from tests.conftest import run_cli
from tests.service.conftest import Service


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://127.8.9.1:1", "http://[::1]:8000", "http://localhost"]
)
def test_loopback_urls_are_accepted(url: str) -> None:
    check_loopback(url)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8000", "https://api.example.com", "http://0.0.0.0:8000", "ftp://x"]
)
def test_other_hosts_are_refused(url: str) -> None:
    with pytest.raises(LoadTestError):
        check_loopback(url)


def test_refusal_from_the_cli() -> None:
    done = run_cli("loadtest", "--url", "http://192.0.2.1:8000", "--seconds", "1")
    assert done.returncode == 2
    assert "only loopback" in done.stderr


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([7.0], 99) == 7.0


@pytest.mark.slow
def test_a_short_run_reports_requests_and_percentiles(service: Service, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    assert service.api_key is not None
    done = run_cli(
        "loadtest",
        "--url", service.base_url,
        "--key", service.api_key,
        "--concurrency", "2",
        "--seconds", "1",
        "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "requests/s" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["requests"] > 0
    assert report["errors"] == 0
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]


@pytest.mark.slow
def test_mixed_load_finishes_every_batch_and_samples_server_memory(
    service: Service, tmp_path: Path
) -> None:
    csv = tmp_path / "batch.csv"
    csv.write_text("comment\nGiao hàng nhanh\nNhân viên thô lỗ\nGiá hơi cao\n", encoding="utf-8")
    out = tmp_path / "mixed.json"
    assert service.api_key is not None and service.process is not None
    done = run_cli(
        "loadtest",
        "--url", service.base_url,
        "--key", service.api_key,
        "--concurrency", "2",
        "--seconds", "4",
        "--batch-file", str(csv),
        "--batch-every", "0.5",
        "--server-pid", str(service.process.pid),
        "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["errors"] == 0
    assert report["batches"]["uploaded"] >= 2
    assert report["batches"]["done"] == report["batches"]["uploaded"]
    assert report["batches"]["rows"] == 3 * report["batches"]["uploaded"]
    assert 0 < report["server_rss_mb"]["start"] <= report["server_rss_mb"]["peak"]
