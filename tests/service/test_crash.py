"""Crashes on purpose, on the real processes.

(a) A standalone ``vicx worker`` is killed (SIGKILL) three times mid-batch, at seeded-random row
    counts, and restarted: the batch ends with every row exactly once and the same results as
    an uninterrupted run.
(b) The server is killed in the middle of a slow streaming upload: the client gets a connection
    error, and after the restart there is no batch and no file left in the uploads folder.
(c) After the kills the SQLite database (and the queue's) pass ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.batch_data import feedback_rows, write_csv
from tests.service.conftest import VICX, MakeService, Service
from tests.service.test_batches import FORM, upload, wait_done

pytestmark = pytest.mark.slow

ROWS = 1500
CHUNK = 50
KILLS = 3
SEED = 20261123


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        result: str = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    return result


def _results(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/batches/{batch_id}/results", params={"format": "jsonl"})
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


def _start_worker(server: Service) -> subprocess.Popen[bytes]:
    with (server.data_dir / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [str(VICX), "worker"], env=server.env, stdout=log, stderr=subprocess.STDOUT
        )


def _wait_rows(client: httpx.Client, batch_id: str, at_least: int) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        status: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
        if status["rows_done"] >= at_least:
            return status
        assert status["status"] in ("queued", "running"), status
        assert time.monotonic() < deadline, f"stuck below {at_least} rows: {status}"
        time.sleep(0.01)


def test_killed_worker_resumes_with_every_row_once(
    make_service: MakeService, tmp_path: Path
) -> None:
    server = make_service(queue_workers="0", batch_chunk_rows=str(CHUNK))
    path = write_csv(tmp_path / "feedback.csv", feedback_rows(ROWS))
    targets = sorted(random.Random(SEED).sample(range(CHUNK, ROWS - 6 * CHUNK, CHUNK), KILLS))
    worker = _start_worker(server)
    killed_at = []
    try:
        with server.client() as client:
            batch_id = upload(client, path, **FORM).json()["id"]
            for target in targets:
                status = _wait_rows(client, batch_id, target)
                worker.kill()
                worker.wait(timeout=10)
                after = client.get(f"/v1/batches/{batch_id}").json()
                assert after["status"] == "running", "the batch ended before the kill"
                assert after["rows_done"] >= status["rows_done"]
                killed_at.append(after["rows_done"])
                worker = _start_worker(server)
            done = wait_done(client, batch_id)
            assert (done["status"], done["rows_done"], done["rows_failed"]) == ("done", ROWS, 3)
            resumed = _results(client, batch_id)
            again = upload(client, path, **FORM).json()["id"]
            assert wait_done(client, again)["status"] == "done"
            uninterrupted = _results(client, again)
            breakdowns = [
                client.get(f"/v1/batches/{b}/breakdown").json() for b in (batch_id, again)
            ]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert len(killed_at) == KILLS and killed_at == sorted(killed_at)
    assert all(0 < rows < ROWS for rows in killed_at), killed_at
    assert [r["row_no"] for r in resumed] == list(range(1, ROWS + 1))
    assert resumed == uninterrupted
    assert breakdowns[0] == breakdowns[1]
    server.stop()
    assert _integrity(server.data_dir / "vicx.db") == "ok"
    assert _integrity(server.data_dir / "queue.db") == "ok"


def _slow_multipart(boundary: str, kill: Service, blocks: int, kill_after: int) -> Iterator[bytes]:
    """A multipart upload sent slowly; the server is SIGKILLed after ``kill_after`` blocks."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="text_column"\r\n\r\ncomment\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nid,comment\r\n"
    ).encode()
    line = "1,Nhân viên phục vụ nhiệt tình nhưng giao hàng chậm\r\n".encode()
    block = line * ((1 << 20) // len(line))
    for sent in range(blocks):
        if sent == kill_after:
            kill.kill()
        yield block
        time.sleep(0.02)
    yield f"\r\n--{boundary}--\r\n".encode()


def test_server_killed_mid_upload_leaves_nothing_behind(make_service: MakeService) -> None:
    server = make_service(queue_workers="0")
    uploads = server.data_dir / "uploads"
    boundary = "vicx-crash-test"
    with server.client() as client:
        before = client.get("/v1/batches").json()["total"]
        with pytest.raises(httpx.TransportError):
            client.post(
                "/v1/batches",
                content=_slow_multipart(boundary, server, blocks=40, kill_after=8),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
    # The kill left the partial upload on disk; the restart removes it.
    assert [p.suffix for p in uploads.iterdir()] == [".part"]
    assert next(uploads.iterdir()).stat().st_size >= 4 << 20
    server.start()
    assert list(uploads.iterdir()) == []
    assert "removed 1 orphan upload file(s) with no batch" in server.log()
    with server.client() as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/batches").json()["total"] == before == 0
    server.stop()
    assert _integrity(server.data_dir / "vicx.db") == "ok"
