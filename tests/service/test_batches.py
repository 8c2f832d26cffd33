"""Batches end to end on the real server: upload a CSV of Vietnamese feedback, poll, download
the results, read breakdowns and comments and check them against the downloaded rows."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from nlp import nps
from nlp.labelled import TOPICS
from tests.service.batch_data import feedback_rows, stored_text, write_csv, write_xlsx
from tests.service.conftest import VICX, MakeService, Service

pytestmark = pytest.mark.slow

ROWS = 300
POLL_TIMEOUT_SECONDS = 240.0
FORM = {"text_column": "comment", "score_column": "nps", "date_column": "ngay"}


def upload(
    client: httpx.Client, path: Path, *, filename: str | None = None, **form: str
) -> httpx.Response:
    with path.open("rb") as handle:
        files = {"file": (filename or path.name, handle)}
        return client.post("/v1/batches", files=files, data=form)


def wait_done(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + POLL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
        if batch["status"] in ("done", "failed"):
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not done in {POLL_TIMEOUT_SECONDS}s")


@pytest.fixture(scope="module")
def input_rows() -> list[dict[str, str]]:
    return feedback_rows(ROWS)


@pytest.fixture(scope="module")
def batch(
    service: Service, input_rows: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    path = write_csv(tmp_path_factory.mktemp("upload") / "Khảo sát tháng 9.csv", input_rows)
    with service.client() as client:
        response = upload(client, path, **FORM, name="Khảo sát Q3")
        assert response.status_code == 202, response.text
        created = response.json()
        assert response.headers["location"] == f"/v1/batches/{created['id']}"
        assert created["status"] in ("queued", "running")
        return wait_done(client, created["id"])


@pytest.fixture(scope="module")
def results(service: Service, batch: dict[str, Any]) -> list[dict[str, Any]]:
    with service.client() as client:
        response = client.get(f"/v1/batches/{batch['id']}/results", params={"format": "jsonl"})
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


def test_batch_completes_with_row_errors(batch: dict[str, Any]) -> None:
    assert batch["status"] == "done"
    assert (batch["rows_total"], batch["rows_done"], batch["rows_failed"]) == (ROWS, ROWS, 3)
    assert batch["progress"] == 1.0
    assert batch["name"] == "Khảo sát Q3" and batch["filename"] == "Khảo sát tháng 9.csv"
    assert (batch["score_scale"], batch["metadata_columns"]) == ("nps", ["id", "branch", "channel"])
    assert [(e["row_no"], e["code"]) for e in batch["row_errors"]] == [
        (3, "E106_score_out_of_range"),
        (5, "E106_score_out_of_range"),
        (8, "E109_unparseable_date"),
    ]


def test_csv_results_have_a_bom_escaped_formulas_and_every_row_in_order(
    client: httpx.Client, batch: dict[str, Any], input_rows: list[dict[str, str]]
) -> None:
    response = client.get(f"/v1/batches/{batch['id']}/results")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''Kh%E1%BA%A3o%20s%C3%A1t" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["row_no"]) for r in table] == list(range(1, ROWS + 1))
    for got, sent in zip(table, input_rows, strict=True):
        expected = stored_text(sent["comment"])
        if expected.startswith(("=", "+", "-", "@")):
            expected = "'" + expected
        assert got["comment"] == expected
        assert got["branch"] == sent["branch"]
    assert table[12]["comment"].startswith("'=HYPERLINK")
    assert table[2]["error_code"] == "E106_score_out_of_range" and table[2]["nps"] == ""
    assert table[10]["flags"] == "empty_text" and table[10]["error_code"] == ""


def test_xlsx_results_open_with_the_same_rows(
    client: httpx.Client, batch: dict[str, Any], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    response = client.get(f"/v1/batches/{batch['id']}/results", params={"format": "xlsx"})
    assert response.status_code == 200
    path = tmp_path / "results.xlsx"
    path.write_bytes(response.content)
    values = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = list(values[0])
    assert [row[header.index("row_no")] for row in values[1:]] == list(range(1, ROWS + 1))
    assert str(values[13][header.index("comment")]).startswith("'=HYPERLINK")


def _frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_no": [r["row_no"] for r in results],
            "branch": [r["branch"] for r in results],
            "date": [r["ngay"] for r in results],
            "nps": [r["nps"] for r in results],
            "sentiment": [r["sentiment"] for r in results],
            "topics": [r["topics"] for r in results],
            "topic_sentiments": [r["topic_sentiments"] for r in results],
            "detractor_probability": [r["detractor_probability"] for r in results],
        }
    )


def _expected_counts(frame: pd.DataFrame) -> dict[str, Any]:
    topics = {}
    for topic in TOPICS:
        mentioned = frame[frame["topics"].map(lambda names, t=topic: t in names)]
        polarity = Counter(s[topic] for s in mentioned["topic_sentiments"])
        topics[topic] = (
            len(mentioned),
            {p: polarity.get(p, 0) for p in ("positive", "negative", "neutral")},
            {
                s: int((mentioned["sentiment"] == s).sum())
                for s in ("positive", "neutral", "negative")
            },
        )
    return {
        "rows": len(frame),
        "sentiment": {
            s: int((frame["sentiment"] == s).sum()) for s in ("positive", "neutral", "negative")
        },
        "topics": topics,
        "nps": nps.nps_summary(pd.to_numeric(frame["nps"])).as_dict(),
    }


def _got_counts(breakdown: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": breakdown["rows"],
        "sentiment": breakdown["sentiment"],
        "topics": {
            t["topic"]: (t["mentions"], t["polarity"], t["sentiment"]) for t in breakdown["topics"]
        },
        "nps": breakdown["score"]["summary"],
    }


def test_breakdown_counts_equal_the_downloaded_results(
    client: httpx.Client, batch: dict[str, Any], results: list[dict[str, Any]]
) -> None:
    response = client.get(f"/v1/batches/{batch['id']}/breakdown")
    assert response.status_code == 200
    breakdown = response.json()
    frame = _frame(results)
    assert _got_counts(breakdown) == _expected_counts(frame)
    impact = {row["topic"]: row["impact"] for row in breakdown["score"]["driver_impact"]}
    reference = nps.driver_impact(frame.assign(nps=pd.to_numeric(frame["nps"])), "nps")
    assert impact == {t: (None if pd.isna(v) else v) for t, v in reference["impact"].items()}
    months = {m["period"]: m["rows"] for m in breakdown["trends"]["month"]}
    assert months == dict(Counter(r["ngay"][:7] for r in results if r["ngay"]))


def test_filtered_breakdown_equals_the_filtered_results(
    client: httpx.Client, batch: dict[str, Any], results: list[dict[str, Any]]
) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("filter", "branch:Quận 1"),
        ("filter", "branch:Hải Châu"),
        ("date_from", "2026-08-20"),
        ("date_to", "2026-10-10"),
    ]
    response = client.get(f"/v1/batches/{batch['id']}/breakdown", params=params)
    assert response.status_code == 200, response.text
    frame = _frame(results)
    kept = frame[
        frame["branch"].isin(["Quận 1", "Hải Châu"])
        & frame["date"].notna()
        & (frame["date"] >= "2026-08-20")
        & (frame["date"] <= "2026-10-10")
    ]
    assert 0 < len(kept) < ROWS
    assert _got_counts(response.json()) == _expected_counts(kept)
    export = client.get(f"/v1/batches/{batch['id']}/results", params=[*params, ("format", "jsonl")])
    assert [json.loads(line)["row_no"] for line in export.text.splitlines()] == kept[
        "row_no"
    ].tolist()


def test_unknown_filter_column_lists_the_available_ones(
    client: httpx.Client, batch: dict[str, Any]
) -> None:
    response = client.get(f"/v1/batches/{batch['id']}/breakdown", params={"filter": "vung:Bắc"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "E103_missing_column"
    assert error["details"]["available"] == ["id", "branch", "channel"]


def test_comments_drill_down_with_evidence(
    client: httpx.Client, batch: dict[str, Any], results: list[dict[str, Any]]
) -> None:
    params: dict[str, str | int] = {
        "topic": "process",
        "polarity": "negative",
        "sort": "detractor",
        "page_size": 7,
    }
    first = client.get(f"/v1/batches/{batch['id']}/comments", params=params).json()
    expected = [r for r in results if r["topic_sentiments"].get("process") == "negative"]
    assert first["total"] == len(expected) > 7
    assert len(first["items"]) == 7
    probabilities = [item["detractor_probability"] for item in first["items"]]
    assert probabilities == sorted(probabilities, reverse=True)
    second = client.get(f"/v1/batches/{batch['id']}/comments", params=params | {"page": 2}).json()
    seen = [i["row_no"] for i in first["items"] + second["items"]]
    assert len(set(seen)) == 14
    for item in first["items"]:
        assert item["topic_sentiments"]["process"] == "negative"
        assert item["evidence"] == item["result"]["evidence"]
        for span in item["highlights"]:
            assert item["text"][span["start"] : span["end"]] == span["text"]
    assert any(item["highlights"] for item in first["items"])


def test_comments_search_ignores_case_and_accents(
    client: httpx.Client, batch: dict[str, Any], results: list[dict[str, Any]]
) -> None:
    page = client.get(
        f"/v1/batches/{batch['id']}/comments",
        params={"q": "NHAN VIEN", "filter": "branch:Cầu Giấy", "page_size": 200},
    ).json()
    expected = [
        r["row_no"]
        for r in results
        if r["branch"] == "Cầu Giấy" and "nhân viên" in (r["comment"] or "").lower()
    ]
    assert [item["row_no"] for item in page["items"]] == expected
    assert page["total"] == len(expected) > 0


def test_columns_list_metadata_values(client: httpx.Client, batch: dict[str, Any]) -> None:
    columns = client.get(f"/v1/batches/{batch['id']}/columns").json()
    branch = next(c for c in columns["metadata"] if c["name"] == "branch")
    assert {v["value"] for v in branch["values"]} == {
        "Quận 1", "Quận 7", "Cầu Giấy", "Hải Châu", "Thủ Đức",
    }  # fmt: skip
    assert sum(v["rows"] for v in branch["values"]) == ROWS
    assert columns["date_column"] == "ngay" and columns["score_scale"] == "nps"


def _batch_routes() -> list[tuple[str, str]]:
    """(method, path) of every API route that takes a batch id, read from the app itself so a
    new route is covered without editing this test."""
    from fastapi.routing import iter_route_contexts

    from api.service.app import create_app
    from api.service.settings import Settings

    app = create_app(Settings(state_dir=Path("unused-not-started")))
    return sorted(
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if context.path is not None and context.path.startswith("/v1/batches/{batch_id}")
        for method in context.methods or ()
        if method != "HEAD"
    )


def test_batches_are_private_to_their_key(
    service: Service, client: httpx.Client, batch: dict[str, Any]
) -> None:
    routes = _batch_routes()
    assert ("DELETE", "/v1/batches/{batch_id}") in routes
    assert len(routes) >= 6
    with service.client(service.create_key("other team")) as other:
        for method, path in routes:
            response = other.request(method, path.replace("{batch_id}", batch["id"]))
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "E404_not_found"
        assert batch["id"] not in [b["id"] for b in other.get("/v1/batches").json()["batches"]]
    # The other key's DELETE removed nothing.
    assert client.get(f"/v1/batches/{batch['id']}").json()["status"] == "done"


@pytest.mark.parametrize(
    ("form", "code", "status"),
    [
        ({"text_column": "binh_luan"}, "E103_missing_column", 422),
        ({"text_column": "comment", "score_column": "diem"}, "E103_missing_column", 422),
        ({"text_column": "comment", "score_scale": "percent", "score_column": "nps"},
         "E106_score_out_of_range", 422),
        ({}, "E422_validation_failed", 422),
    ],
)  # fmt: skip
def test_uploads_are_checked_before_they_are_accepted(
    client: httpx.Client, tmp_path: Path, form: dict[str, str], code: str, status: int
) -> None:
    path = write_csv(tmp_path / "in.csv", feedback_rows(20))
    response = upload(client, path, **form)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if code == "E103_missing_column":
        assert error["details"]["available"] == [
            "id",
            "branch",
            "channel",
            "ngay",
            "nps",
            "comment",
        ]
        assert "in.csv" in error["message"]


def test_unreadable_encoding_and_unknown_format_are_refused(
    client: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "shift_jis.csv"
    path.write_bytes("comment\nサービスがとても悪い\n".encode("shift_jis") * 50)
    response = upload(client, path, text_column="comment")
    assert (response.status_code, response.json()["error"]["code"]) == (
        422, "E102_unreadable_encoding",
    )  # fmt: skip
    assert "shift_jis.csv" in response.json()["error"]["message"]
    other = tmp_path / "notes.txt"
    other.write_text("comment\nok\n")
    response = upload(client, other, text_column="comment")
    assert response.json()["error"]["code"] == "E101_unsupported_format"


def test_xlsx_upload_and_delete(service: Service, client: httpx.Client, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "gop_y.xlsx", feedback_rows(40))
    response = upload(client, path, filename="../../gop ý.xlsx", **FORM)
    assert response.status_code == 202, response.text
    done = wait_done(client, response.json()["id"])
    assert (done["status"], done["rows_done"], done["file_format"]) == ("done", 40, "xlsx")
    assert done["filename"] == "gop ý.xlsx"
    batch_id = done["id"]
    uploads = service.data_dir / "uploads"
    assert [p.name for p in uploads.glob(f"{batch_id}*")] == [f"{batch_id}.xlsx"]
    assert client.delete(f"/v1/batches/{batch_id}").status_code == 204
    assert client.get(f"/v1/batches/{batch_id}").status_code == 404
    assert not list(uploads.glob(f"{batch_id}*"))
    assert not list((service.data_dir / "rollups").glob(f"{batch_id}*"))


def test_limits_unfinished_batches_and_a_standalone_worker(
    make_service: MakeService, tmp_path: Path
) -> None:
    """A server without a consumer keeps batches queued (409 on results) until `vicx worker`
    runs; a file above the upload limit is refused (413) and leaves nothing behind."""
    server = make_service(queue_workers="0", max_upload_bytes="20000")
    small = write_csv(tmp_path / "small.csv", feedback_rows(20))
    big = write_csv(tmp_path / "big.csv", feedback_rows(400))
    with server.client() as client:
        response = upload(client, big, text_column="comment")
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "E413_payload_too_large"
        assert not list((server.data_dir / "uploads").iterdir())
        queued = upload(client, small, text_column="comment").json()
        for route in ("results", "breakdown", "comments", "columns"):
            response = client.get(f"/v1/batches/{queued['id']}/{route}")
            assert response.status_code == 409
            assert response.json()["error"]["code"] == "E409_batch_not_finished"
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [str(VICX), "worker"], env=server.env, stdout=subprocess.DEVNULL, stderr=log
            )
        try:
            done = wait_done(client, queued["id"])
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=60)
        assert (done["status"], done["rows_done"]) == ("done", 20)
        assert client.get(f"/v1/batches/{queued['id']}/results").status_code == 200
