"""Pure ASGI middleware (cheap enough for the real-time path): request id + latency metric,
and the request body size limit.

The body limit is checked here from ``Content-Length`` before any route runs; bodies without
one (chunked) are cut by FastAPI's own per-router ``max_body_size``, which ``create_app`` sets
to the same values. Either way the client gets the E413 envelope.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from contextvars import ContextVar
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.errors import SERVICE_CODES, envelope
from api.service.metrics import ServiceMetrics
from api.service.settings import Settings

#: The current request's id, for log lines written while serving it.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
REQUEST_ID_HEADER: Final = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: Multipart overhead allowed on top of the upload limit (boundaries and the small form fields).
MULTIPART_SLACK_BYTES: Final = 1024 * 1024


def upload_body_limit(settings: Settings) -> int:
    return settings.max_upload_bytes + MULTIPART_SLACK_BYTES


def body_limit(settings: Settings, content_type: str | None) -> int:
    """Multipart bodies are uploads, with their own limit; every other body is a request."""
    if content_type and content_type.lower().startswith("multipart/form-data"):
        return upload_body_limit(settings)
    return settings.max_request_bytes


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``, kept if the client sent a sane one) and
    records its latency under the matched route template (so ids in paths do not explode the
    metric's label set)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request_seconds.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Refuses a body whose declared ``Content-Length`` is above the limit, before reading it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        limit = body_limit(self.settings, headers.get("content-type"))
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_too_large(send, limit, int(declared))
            return
        await self.app(scope, receive, send)


async def _send_too_large(send: Send, limit: int, declared: int) -> None:
    status = SERVICE_CODES["E413_payload_too_large"].status
    body = json.dumps(
        envelope(
            status,
            "E413_payload_too_large",
            f"The request body is {declared} bytes; the limit is {limit}.",
            {"limit_bytes": limit, "content_length": declared},
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
