"""The service's error envelope and its catalogue of stable codes.

Every error a client sees is ``{"error": {"status", "code", "message", "details"}}``. Pipeline
errors keep their ``nlp.errors`` code (E1xx input, E2xx model, E3xx data); the HTTP layer adds
the E4xx/E5xx codes below. README lists the whole catalogue (a test keeps it in sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from nlp import errors as nlp_errors


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    status: int
    description: str


#: Codes raised by the HTTP layer itself.
SERVICE_CODES: Final[dict[str, ErrorSpec]] = {
    "E400_bad_request": ErrorSpec(400, "The request is malformed (e.g. not JSON)."),
    "E401_unauthorized": ErrorSpec(401, "No API key, or an unknown or revoked one."),
    "E404_not_found": ErrorSpec(404, "No such route, or no such batch for this key."),
    "E405_method_not_allowed": ErrorSpec(405, "The route exists but not with this method."),
    "E409_batch_not_finished": ErrorSpec(409, "The batch has no results yet: poll its status."),
    "E413_payload_too_large": ErrorSpec(413, "Body, upload, text or list above the limits."),
    "E415_unsupported_media_type": ErrorSpec(415, "The body's content type is not accepted."),
    "E422_validation_failed": ErrorSpec(422, "Fields are missing or have the wrong type."),
    "E429_rate_limited": ErrorSpec(429, "Too many requests for this key; retry later."),
    "E500_internal": ErrorSpec(500, "A bug: the server logged it with the request id."),
    "E503_not_ready": ErrorSpec(503, "Models or database not available yet."),
}

#: Pipeline codes a client can meet, with the HTTP status they travel with.
_PIPELINE_STATUS: Final[dict[type[nlp_errors.VicxError], int]] = {
    nlp_errors.UnsupportedFormatError: 415,
    nlp_errors.EncodingError: 422,
    nlp_errors.MissingColumnError: 422,
    nlp_errors.EmptyInputError: 422,
    nlp_errors.MalformedFileError: 422,
    nlp_errors.ScoreRangeError: 422,
    nlp_errors.InputError: 422,
    nlp_errors.ModelError: 503,
    nlp_errors.DataError: 500,
}


def _status_of(cls: type[nlp_errors.VicxError]) -> int:
    for base in cls.__mro__:
        if base in _PIPELINE_STATUS:
            return _PIPELINE_STATUS[base]
    return 500


def pipeline_status(error: nlp_errors.VicxError) -> int:
    return _status_of(type(error))


def _pipeline_classes() -> list[type[nlp_errors.VicxError]]:
    """Every concrete pipeline error class, so a subclass added later is catalogued too."""
    found: list[type[nlp_errors.VicxError]] = []
    pending = list(nlp_errors.VicxError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def catalogue() -> dict[str, ErrorSpec]:
    """Every code a client can receive, service and pipeline, for docs and tests."""
    codes = dict(SERVICE_CODES)
    for cls in _pipeline_classes():
        doc = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
        codes[cls.code] = ErrorSpec(_status_of(cls), doc)
    return dict(sorted(codes.items()))


class ApiError(Exception):
    """Raised by routes; turned into the envelope by one exception handler."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        if code not in SERVICE_CODES:
            raise ValueError(f"unknown service error code {code}")
        super().__init__(message)
        self.code = code
        self.status = SERVICE_CODES[code].status
        self.message = message
        self.details = details


def envelope(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": details or {}}}
