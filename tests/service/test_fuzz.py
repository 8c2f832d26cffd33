"""API fuzzing: schemathesis generates requests for every operation of the live server's
OpenAPI schema; no response may be a server error or break the documented schema (status codes
included: every route documents its error envelopes).

A dedicated server (not the shared one): the fuzzer uploads files and deletes batches, and a
generous rate limit so that 429s do not hide the other answers. Every other request to a
``/v1/batches/{batch_id}...`` GET goes to a real finished batch, so query parameters (filters,
pages, sorts, formats) are fuzzed against real data, not only against a 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.service.batch_data import feedback_rows, write_csv
from tests.service.conftest import MakeService
from tests.service.test_batches import FORM, upload, wait_done

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def test_every_operation_survives_fuzzing(make_service: MakeService, tmp_path: Path) -> None:
    server = make_service(rate_limit_per_minute="100000")
    headers = {"Authorization": f"Bearer {server.api_key}"}
    # A finished batch, so that half of the batch GETs reach the real code rather than a 404.
    with server.client() as client:
        created = upload(client, write_csv(tmp_path / "f.csv", feedback_rows(40)), **FORM)
        real_id = wait_done(client, created.json()["id"])["id"]
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json", headers=headers)
    failures: list[str] = []
    operations = 0
    calls = 0
    answered_on_the_batch: set[str] = set()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"operation not loadable: {result.err()!r}")
            continue
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            nonlocal calls
            calls += 1
            on_a_batch = "batch_id" in (case.path_parameters or {})
            if on_a_batch and case.method != "DELETE" and calls % 2:
                case.path_parameters["batch_id"] = real_id
            response = case.call_and_validate(
                base_url=server.base_url, headers=headers, checks=CHECKS, timeout=30
            )
            if on_a_batch and response.status_code == 200:
                answered_on_the_batch.add(case.operation.label)

        try:
            fuzz()
        # One failed check, or schemathesis' FailureGroup (a BaseExceptionGroup) of several;
        # their text holds the curl command that reproduces them.
        except (AssertionError, BaseExceptionGroup) as error:
            failures.append(f"{operation.label}: {error}"[:4000])
    assert operations >= 10
    assert calls >= 5 * operations  # hypothesis really generated requests for each one
    assert not failures, "\n\n".join(failures)
    # The real batch was reached by every GET on it (and not deleted by the fuzzer).
    assert len(answered_on_the_batch) >= 4, answered_on_the_batch
    with server.client() as client:
        assert client.get(f"/v1/batches/{real_id}").status_code == 200
    assert "E500_internal" not in server.log()
