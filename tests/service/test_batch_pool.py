"""A server analysing batches on a process pool (VICX_BATCH_JOBS=2, the default) stores the same
rows as one analysing in its own process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.batch_data import feedback_rows, write_csv
from tests.service.conftest import MakeService, Service
from tests.service.test_batches import FORM, upload, wait_done

pytestmark = pytest.mark.slow


def _rows(client: httpx.Client, path: Path) -> list[dict[str, Any]]:
    batch_id = upload(client, path, **FORM).json()["id"]
    assert wait_done(client, batch_id)["status"] == "done"
    response = client.get(f"/v1/batches/{batch_id}/results", params={"format": "jsonl"})
    return [json.loads(line) for line in response.text.splitlines()]


def test_pooled_batch_equals_the_in_process_batch(
    service: Service, make_service: MakeService, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "feedback.csv", feedback_rows(400))
    pooled = make_service(batch_jobs="2", batch_chunk_rows="50")
    with pooled.client() as client:
        from_pool = _rows(client, path)
    with service.client() as client:
        in_process = _rows(client, path)
    assert len(from_pool) == 400
    assert from_pool == in_process
