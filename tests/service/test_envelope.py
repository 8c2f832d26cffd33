"""Every error of every route is the one envelope, with a catalogued code.

The walker enumerates the app's routes (whatever routers exist: the batch and dashboard
routes are covered as soon as they are included) and, against the real server, sends each one
requests without a key, with a wrong method, with a malformed body or query, and with an
unknown id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.service.app import create_app
from api.service.deps import require_key
from api.service.errors import catalogue
from api.service.settings import Settings
from tests.service.conftest import Service

pytestmark = pytest.mark.slow

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNKNOWN_ID = "does-not-exist"
PATH_PARAM = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    route: APIRoute

    @property
    def concrete_path(self) -> str:
        return PATH_PARAM.sub(UNKNOWN_ID, self.path)


def _depends_on(dependant: Dependant, call: object) -> bool:
    return dependant.call is call or any(_depends_on(d, call) for d in dependant.dependencies)


def _routes() -> tuple[list[Endpoint], dict[str, set[str]]]:
    """The API routes (in the OpenAPI schema), and the methods of every path (docs included)."""
    app = create_app(Settings(state_dir=Path("unused-not-started")))
    endpoints = []
    methods_by_path: dict[str, set[str]] = {}
    for context in iter_route_contexts(app.routes):
        if context.path is None or context.methods is None:
            continue  # mounts (static files) have no methods
        methods_by_path.setdefault(context.path, set()).update(context.methods)
        route = context.original_route
        if isinstance(route, APIRoute) and context.include_in_schema:
            endpoints.append(Endpoint(context.path, frozenset(context.methods), route))
    return endpoints, methods_by_path


ENDPOINTS, METHODS_BY_PATH = _routes()
#: (endpoint, method) for every method of every API route.
CASES = [(e, m) for e in ENDPOINTS for m in sorted(e.methods - {"HEAD"})]


def _typed_query_params(endpoint: Endpoint) -> list[str]:
    return [
        param.alias
        for param in endpoint.route.dependant.query_params
        if param.field_info.annotation in (int, float, bool)
    ]


def _reaches_lookup_without_input(endpoint: Endpoint) -> bool:
    route = endpoint.route
    required_query = [p for p in route.dependant.query_params if p.field_info.is_required()]
    return bool(route.dependant.path_params) and route.body_field is None and not required_query


def _params(cases: list[tuple[Endpoint, str]]) -> list[object]:
    return [pytest.param(e, m, id=f"{m} {e.path}") for e, m in cases]


def assert_envelope(response: httpx.Response, *statuses: int) -> str:
    """The response is the envelope with a status in ``statuses``; returns its code."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}, error
    assert error["status"] == response.status_code
    codes = catalogue()
    assert error["code"] in codes, error["code"]
    assert codes[error["code"]].status == response.status_code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    code: str = error["code"]
    return code


def test_the_walker_sees_the_core_routes() -> None:
    seen = {f"{m} {e.path}" for e, m in CASES}
    assert {"POST /v1/analyze", "GET /healthz", "GET /readyz", "GET /metrics"} <= seen


@pytest.mark.parametrize(
    ("endpoint", "method"),
    _params([(e, m) for e, m in CASES if _depends_on(e.route.dependant, require_key)]),
)
def test_without_a_key(service: Service, endpoint: Endpoint, method: str) -> None:
    response = httpx.request(method, service.base_url + endpoint.concrete_path)
    assert assert_envelope(response, 401) == "E401_unauthorized"


@pytest.mark.parametrize("path", sorted(METHODS_BY_PATH))
def test_with_a_wrong_method(client: httpx.Client, path: str) -> None:
    wrong = next(m for m in METHODS if m not in METHODS_BY_PATH[path])
    response = client.request(wrong, PATH_PARAM.sub(UNKNOWN_ID, path))
    assert assert_envelope(response, 405) == "E405_method_not_allowed"
    assert wrong not in response.headers["allow"]


@pytest.mark.parametrize(
    ("endpoint", "method"), _params([(e, m) for e, m in CASES if e.route.body_field is not None])
)
def test_with_a_malformed_body(client: httpx.Client, endpoint: Endpoint, method: str) -> None:
    not_json = client.request(
        method,
        endpoint.concrete_path,
        content=b'{"text": "unterminated',
        headers={"content-type": "application/json"},
    )
    assert_envelope(not_json, 400, 415, 422)
    plain_text = client.request(
        method,
        endpoint.concrete_path,
        content="chào".encode(),
        headers={"content-type": "text/plain"},
    )
    assert_envelope(plain_text, 415, 422)


@pytest.mark.parametrize(
    ("endpoint", "method"), _params([(e, m) for e, m in CASES if _typed_query_params(e)])
)
def test_with_a_malformed_query(client: httpx.Client, endpoint: Endpoint, method: str) -> None:
    for name in _typed_query_params(endpoint):
        response = client.request(method, endpoint.concrete_path, params={name: "không-phải-số"})
        assert assert_envelope(response, 422) == "E422_validation_failed"


@pytest.mark.parametrize(
    ("endpoint", "method"), _params([(e, m) for e, m in CASES if _reaches_lookup_without_input(e)])
)
def test_with_an_unknown_id(client: httpx.Client, endpoint: Endpoint, method: str) -> None:
    response = client.request(method, endpoint.concrete_path)
    assert assert_envelope(response, 404) == "E404_not_found"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_routes(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/v1/không-có")
    assert assert_envelope(response, 404) == "E404_not_found"
