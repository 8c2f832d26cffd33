"""The real-time route, health, readiness and metrics, against the real server."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.service.conftest import Service

pytestmark = pytest.mark.slow

COMMENTS = [
    "Đồ ăn ngon nhưng phục vụ chậm quá",
    "Nhân viên tư vấn nhiệt tình, sẽ quay lại ủng hộ",
    "Giao hàng trễ 3 ngày, gọi tổng đài không ai nghe",
]
RESULT_KEYS = {
    "sentiment",
    "sentiment_scores",
    "topics",
    "topic_scores",
    "topic_sentiments",
    "detractor_probability",
    "detractor_drivers",
    "evidence",
    "model_version",
    "flags",
}


def test_one_text_gives_one_result_with_every_field(client: httpx.Client) -> None:
    response = client.post("/v1/analyze", json={"text": COMMENTS[0]})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert set(result) == RESULT_KEYS
    assert result["topic_sentiments"] == {"product": "positive", "process": "negative"}


def test_texts_come_back_in_input_order(client: httpx.Client) -> None:
    one_by_one = [
        client.post("/v1/analyze", json={"text": text}).json()["results"][0] for text in COMMENTS
    ]
    together = client.post("/v1/analyze", json={"texts": COMMENTS}).json()["results"]
    reversed_ = client.post("/v1/analyze", json={"texts": COMMENTS[::-1]}).json()["results"]
    assert together == one_by_one
    assert reversed_ == one_by_one[::-1]


def test_items_keep_the_callers_ids_unchanged(client: httpx.Client) -> None:
    items = [{"id": "ticket-1042", "text": COMMENTS[2]}, {"id": 77, "text": ""}]
    results = client.post("/v1/analyze", json={"items": items}).json()["results"]
    assert [r["id"] for r in results] == ["ticket-1042", 77]
    assert results[0]["sentiment"] == "negative"
    assert results[1]["flags"] == ["empty_text"]
    assert set(results[0]) == RESULT_KEYS | {"id"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": "a", "texts": ["b"]},
        {"texts": "not a list"},
        {"items": [{"text": "no id"}]},
        {"text": None},
        {"text": "ok", "unknown": 1},
    ],
)
def test_malformed_bodies_are_e422(client: httpx.Client, body: dict[str, object]) -> None:
    response = client.post("/v1/analyze", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "E422_validation_failed"


def test_counts_and_lengths_above_the_limits_are_e413(client: httpx.Client) -> None:
    too_many = client.post("/v1/analyze", json={"texts": ["ok"] * 1001})
    assert too_many.status_code == 413
    assert too_many.json()["error"]["details"] == {"count": 1001, "limit": 1000}
    too_long = client.post("/v1/analyze", json={"texts": ["ok", "a" * 10_001]})
    assert too_long.status_code == 413
    assert too_long.json()["error"]["details"] == {"index": 1, "length": 10_001, "limit": 10_000}


def test_concurrent_requests_each_get_their_own_results(service: Service) -> None:
    """Grouped analysis must hand every waiting request exactly its own slice."""
    import asyncio

    async def run() -> list[tuple[str, str]]:
        headers = {"Authorization": f"Bearer {service.api_key}"}
        async with httpx.AsyncClient(base_url=service.base_url, headers=headers, timeout=60) as h:
            texts = [f"{COMMENTS[i % 3]} (đơn {i})" for i in range(24)]
            responses = await asyncio.gather(
                *(h.post("/v1/analyze", json={"items": [{"id": t, "text": t}]}) for t in texts)
            )
        return [(t, r.json()["results"][0]["id"]) for t, r in zip(texts, responses, strict=True)]

    for sent, returned in asyncio.run(run()):
        assert sent == returned


def test_health_and_readiness(service: Service) -> None:
    assert httpx.get(f"{service.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{service.base_url}/readyz").json()
    assert ready["status"] == "ready"
    assert ready["database"] == "ok"
    assert set(ready["models"]) == {"features", "sentiment", "topics", "detractor"}


def test_metrics_expose_latency_comments_and_queue_depth(client: httpx.Client) -> None:
    def comments_analysed() -> float:
        text = client.get("/metrics").text
        match = re.search(r'^vicx_comments_analysed_total\{source="realtime"\} (\S+)$', text, re.M)
        return float(match.group(1)) if match else 0.0

    before = comments_analysed()
    client.post("/v1/analyze", json={"texts": COMMENTS})
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert comments_analysed() == before + 3
    assert re.search(
        r'^vicx_request_duration_seconds_count\{method="POST",route="/v1/analyze",status="200"\}',
        metrics.text,
        re.M,
    )
    assert re.search(r"^vicx_batch_queue_depth \d", metrics.text, re.M)


def test_every_response_carries_a_request_id(client: httpx.Client) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    echoed = client.get("/healthz", headers={"X-Request-ID": "crm-7f3a"})
    assert echoed.headers["x-request-id"] == "crm-7f3a"


def test_docs_serve_vietnamese_examples(client: httpx.Client) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    examples = schema["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    assert examples["one"]["value"]["text"] == "Đồ ăn ngon nhưng phục vụ hơi chậm, giá hơi cao"
