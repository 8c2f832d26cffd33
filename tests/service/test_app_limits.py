"""Open mode, body size limits and rate limits, each on a server of its own."""

from __future__ import annotations

import httpx
import pytest

from tests.service.conftest import MakeService

pytestmark = pytest.mark.slow


def test_open_mode_needs_no_key_and_says_so_at_start(make_service: MakeService) -> None:
    server = make_service(key=False, open_mode="true", max_request_bytes="2000")
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        analysed = http.post("/v1/analyze", json={"text": "Phòng sạch, giá hợp lý"})
        assert analysed.status_code == 200
        # Declared too big: refused before the body is read.
        declared = http.post("/v1/analyze", json={"text": "a" * 3000})
        assert declared.status_code == 413
        assert declared.json()["error"]["details"]["limit_bytes"] == 2000

        # Streamed without Content-Length (chunked): cut while reading.
        def chunks() -> object:
            yield b'{"text": "'
            for _ in range(10):
                yield b"a" * 500
            yield b'"}'

        streamed = http.post(
            "/v1/analyze", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"]["code"] == "E413_payload_too_large"
    assert "OPEN MODE" in server.log()


def test_rate_limit_per_key(make_service: MakeService) -> None:
    server = make_service(rate_limit_per_minute="3")
    other_key = server.create_key("other")
    with server.client() as http, server.client(other_key) as other:
        statuses = [http.post("/v1/analyze", json={"text": "ok"}).status_code for _ in range(3)]
        limited = http.post("/v1/analyze", json={"text": "ok"})
        assert statuses == [200, 200, 200]
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "E429_rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        # Limits are per key: another key is unaffected.
        assert other.post("/v1/analyze", json={"text": "ok"}).status_code == 200
