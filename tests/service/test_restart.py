"""A server killed (SIGKILL) in the middle of a batch resumes it after a restart, and the batch
ends with every row exactly once and the same results as an uninterrupted run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.batch_data import feedback_rows, write_csv
from tests.service.conftest import MakeService
from tests.service.test_batches import FORM, upload, wait_done

pytestmark = pytest.mark.slow

ROWS = 3000
CHUNK = 100


def _results(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/batches/{batch_id}/results", params={"format": "jsonl"})
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


def test_killed_server_resumes_the_batch_with_every_row_once(
    make_service: MakeService, tmp_path: Path
) -> None:
    server = make_service(batch_chunk_rows=str(CHUNK))
    path = write_csv(tmp_path / "feedback.csv", feedback_rows(ROWS))
    with server.client() as client:
        batch_id = upload(client, path, **FORM).json()["id"]
        deadline = time.monotonic() + 120
        while True:
            status = client.get(f"/v1/batches/{batch_id}").json()
            if 0 < status["rows_done"] < ROWS - 3 * CHUNK:
                break
            assert status["status"] in ("queued", "running"), status
            assert time.monotonic() < deadline, "the batch never started"
            time.sleep(0.02)
    server.kill()
    killed_at = status["rows_done"]
    server.start()
    with server.client() as client:
        after_restart = client.get(f"/v1/batches/{batch_id}").json()
        assert after_restart["rows_done"] >= killed_at  # committed chunks survived the kill
        done = wait_done(client, batch_id)
        assert (done["status"], done["rows_done"], done["rows_failed"]) == ("done", ROWS, 3)
        resumed = _results(client, batch_id)
        again = upload(client, path, **FORM).json()["id"]
        assert wait_done(client, again)["status"] == "done"
        uninterrupted = _results(client, again)
        breakdowns = [client.get(f"/v1/batches/{b}/breakdown").json() for b in (batch_id, again)]
    assert [r["row_no"] for r in resumed] == list(range(1, ROWS + 1))
    assert resumed == uninterrupted
    assert breakdowns[0] == breakdowns[1]
    assert f"re-enqueued 1 unfinished batch(es): {batch_id}" in server.log()
