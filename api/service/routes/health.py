"""Liveness, readiness and Prometheus metrics (no API key: probes and scrapers call them)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.service.errors import ApiError
from api.service.schemas import HealthPublic, ReadinessPublic, error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic, summary="The process is up")
async def healthz() -> HealthPublic:
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    response_model=ReadinessPublic,
    responses=error_responses(503),
    summary="Models loaded and database reachable",
)
def readyz(request: Request) -> ReadinessPublic:
    analyzer = getattr(request.app.state, "analyzer", None)
    sessions = getattr(request.app.state, "sessions", None)
    if analyzer is None or sessions is None:
        raise ApiError("E503_not_ready", "Still starting: models or database not loaded yet.")
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:
        raise ApiError(
            "E503_not_ready", "The database is not reachable.", database=type(error).__name__
        ) from error
    return ReadinessPublic(status="ready", database="ok", models=dict(analyzer.model_version))


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
