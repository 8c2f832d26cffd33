"""One place that turns every failure into the error envelope (see api/service/errors.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.service.errors import SERVICE_CODES, ApiError, envelope, pipeline_status
from api.service.middleware import request_id_var
from nlp.errors import VicxError

logger = logging.getLogger(__name__)

#: Starlette/FastAPI raise HTTPExceptions with a bare status; each maps to one catalogue code.
_CODE_FOR_STATUS: Final = {spec.status: code for code, spec in SERVICE_CODES.items()} | {
    409: "E409_batch_not_finished",
    500: "E500_internal",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        envelope(status, code, message, details), status_code=status, headers=headers
    )


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after_seconds" in exc.details:
        headers["Retry-After"] = str(max(1, round(exc.details["retry_after_seconds"])))
    return error_response(exc.status, exc.code, exc.message, exc.details, headers or None)


async def pipeline_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VicxError)
    return error_response(pipeline_status(exc), exc.code, exc.message, dict(exc.details))


def _expects_form(request: Request) -> bool:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return False
    return isinstance(route.body_field.field_info, Form)


def _media_type_mismatch(request: Request, errors: list[dict[str, Any]]) -> str | None:
    """The expected media type when the body failed only because it came in another one."""
    if not any(error.get("loc", ("",))[0] == "body" for error in errors):
        return None
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not content_type:
        return None
    if _expects_form(request):
        form_types = ("multipart/form-data", "application/x-www-form-urlencoded")
        return None if content_type in form_types else "multipart/form-data"
    is_json = content_type == "application/json" or content_type.endswith("+json")
    return None if is_json else "application/json"


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    if any(error["type"] == "json_invalid" for error in errors):
        return error_response(
            400, "E400_bad_request", "The body is not valid JSON.", {"errors": errors}
        )
    expected = _media_type_mismatch(request, errors)
    if expected is not None:
        return error_response(
            415,
            "E415_unsupported_media_type",
            f"Send the body as {expected}.",
            {"expected": expected, "received": request.headers.get("content-type")},
        )
    fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in errors)
    return error_response(
        422, "E422_validation_failed", f"Invalid request: {fields}.", {"errors": errors}
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _CODE_FOR_STATUS.get(status, "E500_internal" if status >= 500 else "E400_bad_request")
    details: dict[str, Any] = {}
    if status == 404:
        message = f"No route {request.url.path}."
        details["path"] = request.url.path
    elif status == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
        details["allowed"] = [m.strip() for m in allowed.split(",") if m.strip()]
    else:
        message = exc.detail if isinstance(exc.detail, str) else SERVICE_CODES[code].description
    return error_response(SERVICE_CODES[code].status, code, message, details, exc.headers)


async def internal_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # ServerErrorMiddleware runs outside RequestContextMiddleware: read the id off the scope.
    request_id = str(request.scope.get("state", {}).get("request_id", request_id_var.get()))
    logger.error(
        "unhandled error on %s %s (request id %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    return error_response(
        500,
        "E500_internal",
        f"Internal error; the server logged it with request id {request_id}.",
        {"request_id": request_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(VicxError, pipeline_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)
