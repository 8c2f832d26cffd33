"""POST /v1/analyze: one comment or a bounded list, results in input order."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Request, Response

from api.service.deps import PrincipalDep
from api.service.errors import ApiError
from api.service.realtime import MicroBatcher
from api.service.schemas import AnalyzeRequest, AnalyzeResponse, error_responses
from api.service.settings import Settings

router = APIRouter(tags=["analyze"])

EXAMPLES: Final[dict[str, Any]] = {
    "one": {
        "summary": "One comment",
        "value": {"text": "Đồ ăn ngon nhưng phục vụ hơi chậm, giá hơi cao"},
    },
    "several": {
        "summary": "Several comments (results in the same order)",
        "value": {
            "texts": [
                "Nhân viên tư vấn nhiệt tình, sẽ quay lại ủng hộ",
                "Giao hàng trễ 3 ngày, gọi tổng đài không ai nghe",
                "Cho hỏi chi nhánh Quận 7 mở cửa mấy giờ?",
            ]
        },
    },
    "items": {
        "summary": "Comments with your own ids (returned unchanged)",
        "value": {
            "items": [
                {"id": "ticket-1042", "text": "App hay bị lỗi khi thanh toán, rất bực mình"},
                {"id": 77, "text": "Phòng sạch sẽ, view đẹp, giá hợp lý"},
            ]
        },
    },
}


def _check_limits(texts: list[str], settings: Settings) -> None:
    if len(texts) > settings.max_texts_per_request:
        raise ApiError(
            "E413_payload_too_large",
            f"{len(texts)} texts in one request; the limit is {settings.max_texts_per_request} "
            "(post a batch for more).",
            count=len(texts),
            limit=settings.max_texts_per_request,
        )
    for index, text in enumerate(texts):
        if len(text) > settings.max_text_chars:
            raise ApiError(
                "E413_payload_too_large",
                f"Text {index} has {len(text)} characters; the limit is {settings.max_text_chars}.",
                index=index,
                length=len(text),
                limit=settings.max_text_chars,
            )


@router.post(
    "/v1/analyze",
    response_model=AnalyzeResponse,
    responses=error_responses(400, 401, 413, 415, 422, 429, 503),
    summary="Analyse one or more comments now",
)
async def analyze(
    request: Request,
    body: Annotated[AnalyzeRequest, Body(openapi_examples=EXAMPLES)],
    _principal: PrincipalDep,
) -> Response:
    """Sentiment, 7P topics with their polarity and evidence, and the detractor probability
    for each comment, in input order. Empty texts come back neutral with the flag
    ``empty_text``. For more than `max_texts_per_request` comments, post a batch."""
    state = request.app.state
    texts, ids = body.texts_and_ids()
    _check_limits(texts, state.settings)
    batcher: MicroBatcher = state.realtime
    results = await batcher.analyze(texts)
    state.metrics.comments_analysed.labels("realtime").inc(len(results))
    if ids is None:
        payload = [result.to_dict() for result in results]
    else:
        payload = [
            {"id": caller_id, **result.to_dict()}
            for caller_id, result in zip(ids, results, strict=True)
        ]
    # The dicts are already the documented shape: serialise directly instead of re-validating.
    return Response(
        json.dumps({"results": payload}, ensure_ascii=False), media_type="application/json"
    )
