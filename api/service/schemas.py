"""Request and response bodies of the real-time route and the shared error envelope.

Names say the role (``AnalyzeRequest``, ``AnalyzeResponse``); the batch schemas live in
``schemas_batches.py``. Limits that depend on settings (text count, text length) are checked by
the route, so the schema stays static and documentable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CallerId = str | int


class AnalyzeItem(BaseModel):
    """A comment with the caller's own id, returned unchanged next to its result."""

    model_config = ConfigDict(extra="forbid")

    id: CallerId = Field(description="Your id for this comment (string or integer).")
    text: str = Field(description="The comment.")


class AnalyzeRequest(BaseModel):
    """Exactly one of ``text``, ``texts`` or ``items``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Nhân viên nhiệt tình nhưng giao hàng chậm"}]},
    )

    text: str | None = Field(default=None, description="One comment.")
    texts: list[str] | None = Field(default=None, description="Several comments, in order.")
    items: list[AnalyzeItem] | None = Field(
        default=None, description="Several comments with your own ids."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> AnalyzeRequest:
        given = [name for name in ("text", "texts", "items") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "send exactly one of 'text', 'texts' or 'items' "
                f"(got {', '.join(given) if given else 'none'})"
            )
        return self

    def texts_and_ids(self) -> tuple[list[str], list[CallerId] | None]:
        if self.text is not None:
            return [self.text], None
        if self.texts is not None:
            return list(self.texts), None
        assert self.items is not None
        return [item.text for item in self.items], [item.id for item in self.items]


class AnalyzeResult(BaseModel):
    """``nlp.result.Result`` as JSON, plus ``id`` when the request carried ``items``."""

    id: CallerId | None = Field(default=None, description="Present when you sent `items`.")
    sentiment: Literal["positive", "neutral", "negative"]
    sentiment_scores: dict[str, float]
    topics: list[str]
    topic_scores: dict[str, float]
    topic_sentiments: dict[str, Literal["positive", "neutral", "negative"]]
    detractor_probability: float | None
    detractor_drivers: list[str]
    evidence: dict[str, list[str]]
    model_version: dict[str, str]
    flags: list[str]


class AnalyzeResponse(BaseModel):
    results: list[AnalyzeResult] = Field(description="One result per input text, in input order.")


class ErrorBody(BaseModel):
    status: int
    code: str = Field(description="Stable code from the catalogue (README, 'Error catalogue').")
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    """Every error response has this shape."""

    error: ErrorBody


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ReadinessPublic(BaseModel):
    status: Literal["ready"]
    database: Literal["ok"]
    models: dict[str, str] = Field(description="Loaded bundle versions.")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the envelope for these statuses."""
    return {status: {"model": ErrorEnvelope} for status in statuses}
