"""`vicx bench` pieces: length buckets, the API section, the row check, the full command.

Only behaviour is asserted here; no timing is (speed is what the benchmark reports).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from api.bench_api import api_section
from nlp.bench import length_texts
from nlp.bench_scale import same_rows
from tests.conftest import REPO, requires_corpora, run_cli

EXAMPLE = pd.read_csv(REPO / "examples" / "reviews.csv", dtype=str, keep_default_na=False)
POOL = [text for text in EXAMPLE["comment"] if text]


class _AnalyzeHandler(BaseHTTPRequestHandler):
    """Answers as the service's contract says: 200 for {"text": ...}, 422 for anything else."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = self.path == "/v1/analyze" and isinstance(body.get("text"), str)
        payload = json.dumps({"sentiment": "neutral"} if ok else {"code": "E100"}).encode()
        self.send_response(200 if ok else 422)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the load report, not the access log."""


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnalyzeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("target", [50, 200, 800])
def test_length_texts_join_whole_real_comments_to_about_the_target(target: int) -> None:
    texts = length_texts(POOL, target, 20)
    assert len(texts) == 20
    assert all(target // 2 < len(text) <= target for text in texts)
    words = {word for comment in POOL for word in comment.split()}
    assert all(set(text.split()[:-1]) <= words for text in texts)


def test_api_section_reports_latency_percentiles_of_a_live_server(server_url: str) -> None:
    markdown, report = api_section(server_url, key=None, seconds=1, concurrency=2)
    assert report["requests"] > 0 and report["errors"] == 0
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    assert "| latency p50 / p95 / p99 |" in markdown


def test_same_rows_reads_parts_in_order_and_notices_any_difference(tmp_path: Path) -> None:
    single = tmp_path / "single.csv"
    EXAMPLE.to_csv(single, index=False, encoding="utf-8-sig")
    parts = [tmp_path / "part-0.csv", tmp_path / "part-1.csv"]
    EXAMPLE.iloc[:4].to_csv(parts[0], index=False)
    EXAMPLE.iloc[4:].to_csv(parts[1], index=False)
    assert same_rows(single, parts)
    assert not same_rows(single, parts[:1])
    assert not same_rows(single, list(reversed(parts)))
    changed = EXAMPLE.iloc[4:].copy()
    changed.iloc[0, 0] = "changed"
    changed.to_csv(parts[1], index=False)
    assert not same_rows(single, parts)


@pytest.mark.slow
@requires_corpora
def test_bench_command_writes_every_section(tmp_path: Path) -> None:
    report_path = tmp_path / "bench.json"
    done = run_cli(
        "bench",
        "--comments",
        "300",
        "--sizes",
        "100,300",
        "--lengths",
        "50,400",
        "--json",
        str(report_path),
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["comments"] == 300
    assert [size["comments"] for size in report["sizes"]] == [100, 300]
    assert [bucket["target_chars"] for bucket in report["lengths"]] == [50, 400]
    assert report["size_linearity"] > 0 and report["length_linearity"] > 0
    assert report["speed_ratio_vs_underthesea"] > 0 and report["speed_ratio_vs_tfidf_svc"] > 0
    assert report["scale_out"] == [] and report["million"] is None and report["api"] is None
    assert "Linearity in batch size" in done.stdout
    assert "TF-IDF + LinearSVC" in done.stdout


def test_bench_rejects_a_malformed_size_list() -> None:
    done = run_cli("bench", "--sizes", "1000,abc")
    assert done.returncode == 2
    assert "--sizes" in done.stderr


def test_bench_loads_only_loopback_api_urls() -> None:
    done = run_cli("bench", "--api-url", "http://vicx.example.com")
    assert done.returncode == 2
    assert "loopback" in done.stderr
