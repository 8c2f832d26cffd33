"""The batch pieces on real files, a real SQLite database and the shipped Analyzer, without a
server: upload parsing and checks, the processing loop (errors per row, resume, exactly once),
rollups and breakdowns (against ``nlp.nps``), exports and evidence spans."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.service import exports, migrate
from api.service.batch_processing import (
    DONE,
    RUNNING,
    BatchContext,
    BatchJob,
    _PositionLostError,
    _store,
    parse_dates,
    parse_scores,
    process_batch,
)
from api.service.comments import evidence_spans, select_page
from api.service.db import make_engine, make_sessionmaker
from api.service.errors import ApiError
from api.service.exports import csv_stream, escape_formula, jsonl_stream
from api.service.folding import fold
from api.service.models import Batch, BatchRow
from api.service.rollups import (
    Filters,
    breakdown,
    column_values,
    filter_mask,
    load_rollup,
    parts_dir,
)
from api.service.settings import Settings
from api.service.uploads import plan_upload, receive_upload, sanitize_filename
from nlp import nps
from nlp.analyzer import Analyzer
from nlp.errors import EncodingError, MissingColumnError
from tests.service.batch_data import (
    feedback_rows,
    windows_1258_form,
    write_csv,
    write_jsonl,
    write_xlsx,
)

ROWS = 120
CHUNK = 25
Store = tuple[Settings, sessionmaker[Session]]


# --- uploads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\an\\Desktop\\Khảo sát Q3.xlsx", "Khảo sát Q3.xlsx"),
        ("..", "upload"),
        ("", "upload"),
        ("a\x00b\r\n.csv", "ab.csv"),
        ("góp ý; rm -rf $HOME.csv", "góp ý_ rm -rf _HOME.csv"),
    ],
)
def test_client_file_names_are_only_labels(given: str, expected: str) -> None:
    assert sanitize_filename(given) == expected


def _multipart(file_bytes: bytes, filename: str, **fields: str) -> tuple[str, bytes]:
    request = httpx.Request(
        "POST", "http://x/", files={"file": (filename, file_bytes, "text/csv")}, data=fields
    )
    return request.headers["content-type"], request.read()


async def _in_pieces(body: bytes, size: int = 7919) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_upload_is_streamed_to_disk_with_its_fields(tmp_path: Path) -> None:
    content = write_csv(tmp_path / "in.csv", feedback_rows(50)).read_bytes()
    content_type, body = _multipart(content, "../góp ý.csv", text_column="comment", name="Q3")
    target = tmp_path / "upload.part"
    received = asyncio.run(
        receive_upload(content_type, str(len(body)), _in_pieces(body), target, 10**6)
    )
    assert received.path.read_bytes() == content
    assert (received.filename, received.size) == ("góp ý.csv", len(content))
    assert received.fields == {"text_column": "comment", "name": "Q3"}


def test_upload_over_the_limit_is_refused_and_removed(tmp_path: Path) -> None:
    content = write_csv(tmp_path / "in.csv", feedback_rows(200)).read_bytes()
    content_type, body = _multipart(content, "in.csv", text_column="comment")
    target = tmp_path / "upload.part"
    with pytest.raises(ApiError) as caught:
        # No Content-Length (a chunked upload): the limit is enforced while streaming.
        asyncio.run(receive_upload(content_type, None, _in_pieces(body), target, 5000))
    assert caught.value.code == "E413_payload_too_large"
    assert not target.exists()


def test_upload_without_a_file_part_is_a_validation_error(tmp_path: Path) -> None:
    request = httpx.Request("POST", "http://x/", files={"text_column": (None, "comment")})
    with pytest.raises(ApiError) as caught:
        asyncio.run(
            receive_upload(
                request.headers["content-type"],
                None,
                _in_pieces(request.read()),
                tmp_path / "u.part",
                10**6,
            )
        )
    assert caught.value.code == "E422_validation_failed"
    assert not (tmp_path / "u.part").exists()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1258"])
def test_plan_accepts_the_supported_encodings(tmp_path: Path, encoding: str) -> None:
    rows = feedback_rows(30, special=False)
    if encoding == "cp1258":
        # Windows-1258 cannot hold emoji; keep rows it can encode.
        rows = [r for r in rows if _encodes(windows_1258_form(r["comment"]), encoding)]
    path = write_csv(tmp_path / "in.csv", rows, encoding=encoding)
    plan = plan_upload(path, "in.csv", text_column="comment", score_column="nps")
    assert plan.encoding == encoding
    assert plan.score_scale == "nps"
    assert plan.metadata_columns == ["id", "branch", "channel", "ngay"]


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def test_plan_refuses_an_unreadable_encoding(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"comment\n" + bytes(range(128, 256)) * 20)
    with pytest.raises(EncodingError) as caught:
        plan_upload(path, "in.csv", text_column="comment")
    assert "UTF-8" in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"text_column": "binh_luan"}, "binh_luan"),
        ({"text_column": "comment", "score_column": "diem"}, "diem"),
        ({"text_column": "comment", "date_column": "date"}, "date"),
        ({"text_column": "comment", "metadata_columns": ["branch", "vung"]}, "vung"),
    ],
)
def test_plan_names_a_missing_column_and_lists_the_others(
    tmp_path: Path, kwargs: dict[str, object], missing: str
) -> None:
    path = write_csv(tmp_path / "in.csv", feedback_rows(5))
    with pytest.raises(MissingColumnError) as caught:
        plan_upload(path, "in.csv", **kwargs)  # type: ignore[arg-type]
    assert caught.value.details["column"] == missing
    assert caught.value.details["available"] == [
        "id",
        "branch",
        "channel",
        "ngay",
        "nps",
        "comment",
    ]


def test_plan_reads_xlsx_and_jsonl_headers(tmp_path: Path) -> None:
    rows = feedback_rows(20)
    xlsx = plan_upload(write_xlsx(tmp_path / "a.xlsx", rows), "a.xlsx", text_column="comment")
    jsonl = plan_upload(write_jsonl(tmp_path / "a.jsonl", rows), "a.jsonl", text_column="comment")
    assert xlsx.columns == jsonl.columns == ["id", "branch", "channel", "ngay", "nps", "comment"]
    assert (xlsx.file_format, xlsx.rows_estimate, jsonl.rows_estimate) == ("xlsx", 20, 20)


def test_scores_and_dates_are_read_per_row() -> None:
    scores, problems = parse_scores(pd.Series(["9", " 0 ", "", "7.0", "7.5", "-1", "x"]), "nps")
    assert scores == [9.0, 0.0, None, 7.0, None, None, None]
    assert [p is not None for p in problems] == [False, False, False, False, True, True, True]
    dates, problems = parse_dates(
        pd.Series(["2026-10-05", "5/10/2026", "2026-10-05 08:30:00", "31/02/2026", "", "x"])
    )
    assert dates == ["2026-10-05", "2026-10-05", "2026-10-05", None, None, None]
    assert [p is not None for p in problems] == [False, False, False, True, False, True]


# --- processing --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    data_dir = tmp_path_factory.mktemp("batch-store")
    settings = Settings(state_dir=data_dir, batch_chunk_rows=CHUNK, redact_pii=True)
    settings.ensure_dirs()
    migrate.upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    yield settings, make_sessionmaker(engine)
    engine.dispose()


def _new_batch(
    settings: Settings, sessions: sessionmaker[Session], path: Path, *, score: bool = True
) -> str:
    plan = plan_upload(
        path,
        path.name,
        text_column="comment",
        score_column="nps" if score else None,
        date_column="ngay",
    )
    batch_id = uuid.uuid4().hex
    with sessions.begin() as session:
        session.add(
            Batch(
                id=batch_id,
                name=path.stem,
                filename=path.name,
                file_format=plan.file_format,
                encoding=plan.encoding,
                upload_path=str(path),
                upload_bytes=path.stat().st_size,
                text_column="comment",
                score_column=plan.score_column,
                score_scale=plan.score_scale,
                date_column="ngay",
                metadata_columns=plan.metadata_columns,
                rows_total=plan.rows_estimate,
            )
        )
    return batch_id


@pytest.fixture(scope="module")
def finished(
    store: Store,
    analyzer: Analyzer,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """One batch processed in one go."""
    settings, sessions = store
    path = write_csv(tmp_path_factory.mktemp("in") / "feedback.csv", feedback_rows(ROWS))
    batch_id = _new_batch(settings, sessions, path)
    assert process_batch(BatchContext(settings, sessions, analyzer), batch_id) == DONE
    return batch_id


def _rows(sessions: sessionmaker[Session], batch_id: str) -> list[BatchRow]:
    with sessions() as session:
        return list(
            session.scalars(
                select(BatchRow).where(BatchRow.batch_id == batch_id).order_by(BatchRow.row_no)
            )
        )


def test_a_batch_stores_every_row_once_with_row_errors(store: Store, finished: str) -> None:
    sessions = store[1]
    with sessions() as session:
        batch = session.get(Batch, finished)
        assert batch is not None
        assert (batch.status, batch.rows_total, batch.rows_done) == (DONE, ROWS, ROWS)
        assert batch.rows_failed == 3
        assert batch.summary is not None and batch.summary["rows"] == ROWS
    rows = _rows(sessions, finished)
    assert [r.row_no for r in rows] == list(range(1, ROWS + 1))
    errors = {r.row_no: (r.error_code, r.error_message) for r in rows if r.error_code}
    assert errors == {
        3: ("E106_score_out_of_range", "score 'mười' is not a number"),
        5: ("E106_score_out_of_range", "score 11 is not a whole number from 0 to 10 (nps)"),
        8: ("E109_unparseable_date", "date 'hôm qua' is not a date"),
    }
    # The rows with a problem keep their analysis; an empty comment is flagged, not an error.
    assert all(rows[n - 1].result is not None for n in errors)
    assert rows[10].result is not None and rows[10].result["flags"] == ["empty_text"]
    assert rows[30].date == "2026-10-05"
    assert rows[22].text == "Nhân viên dễ thương.\nNhưng phải chờ lâu quá"
    assert load_rollup(store[0], finished)["row_no"].tolist() == list(range(1, ROWS + 1))


def test_stored_text_is_redacted_when_asked(store: Store, finished: str) -> None:
    pii = pytest.importorskip("nlp.pii")
    row = _rows(store[1], finished)[28]
    assert "0912345678" not in (row.text or "")
    assert row.text == pii.redact("Gọi mình số 0912345678 để xin lỗi nhé, thái độ nhân viên quá tệ")


def test_an_interrupted_batch_resumes_to_the_same_rows(
    store: Store,
    finished: str,
    analyzer: Analyzer,
    tmp_path: Path,
) -> None:
    settings, sessions = store
    path = write_csv(tmp_path / "feedback.csv", feedback_rows(ROWS))
    batch_id = _new_batch(settings, sessions, path)
    context = BatchContext(settings, sessions, analyzer)
    stops = iter([False, True])  # stop after the second chunk, as a shutdown would
    assert process_batch(context, batch_id, should_stop=lambda: next(stops)) == RUNNING
    with sessions() as session:
        assert session.get(Batch, batch_id).rows_done == 2 * CHUNK  # type: ignore[union-attr]
    # As if the process died between a commit and its rollup part: rows come from the database.
    shutil.rmtree(parts_dir(settings, batch_id))
    assert process_batch(context, batch_id) == DONE
    pd.testing.assert_frame_equal(load_rollup(settings, batch_id), load_rollup(settings, finished))
    resumed, whole = _rows(sessions, batch_id), _rows(sessions, finished)
    assert [r.row_no for r in resumed] == list(range(1, ROWS + 1))
    fields = ("text", "sentiment", "topics", "score", "date", "meta", "result", "error_code")
    for a, b in zip(resumed, whole, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]


def test_a_stale_processor_cannot_store_a_chunk_twice(store: Store, finished: str) -> None:
    sessions = store[1]
    with sessions() as session:
        batch = session.get(Batch, finished)
        assert batch is not None
        job = BatchJob.of(batch)
    record = {
        "batch_id": finished, "row_no": ROWS + 1, "text": "x", "sentiment": None, "topics": None,
        "detractor_probability": None, "score": None, "date": None, "meta": {}, "result": None,
        "error_code": None, "error_message": None,
    }  # fmt: skip
    context = BatchContext(store[0], sessions)
    for stale_done, row_no in ((ROWS - CHUNK, ROWS + 1), (ROWS, ROWS)):
        with pytest.raises(_PositionLostError):
            _store(context, job.id, [record | {"row_no": row_no}], stale_done)
    with sessions() as session:
        count = session.scalar(select(func.count()).where(BatchRow.batch_id == finished))
        assert count == ROWS
        assert session.get(Batch, finished).rows_done == ROWS  # type: ignore[union-attr]


def test_xlsx_and_jsonl_batches_give_the_csv_results(
    store: Store,
    finished: str,
    analyzer: Analyzer,
    tmp_path: Path,
) -> None:
    settings, sessions = store
    rows = feedback_rows(ROWS)
    expected = [(r.row_no, r.text, r.sentiment, r.score, r.date) for r in _rows(sessions, finished)]
    for path in (write_xlsx(tmp_path / "f.xlsx", rows), write_jsonl(tmp_path / "f.jsonl", rows)):
        batch_id = _new_batch(settings, sessions, path)
        assert process_batch(BatchContext(settings, sessions, analyzer), batch_id) == DONE
        got = [(r.row_no, r.text, r.sentiment, r.score, r.date) for r in _rows(sessions, batch_id)]
        assert got == expected, path.name


# --- rollups and breakdowns --------------------------------------------------------------------


def _result_frame(rows: list[BatchRow]) -> pd.DataFrame:
    """The rows as ``Analyzer.analyze_frame`` output, the input of the ``nlp.nps`` functions."""
    return pd.DataFrame(
        {
            "topics": [r.result["topics"] if r.result else [] for r in rows],
            "topic_sentiments": [r.result["topic_sentiments"] if r.result else {} for r in rows],
            "detractor_probability": [r.detractor_probability for r in rows],
            "nps": [r.score for r in rows],
        }
    )


def _records(table: pd.DataFrame) -> list[dict[str, object]]:
    frame = table.reset_index().astype(object)
    return json.loads(frame.to_json(orient="records"))  # type: ignore[no-any-return]


def test_breakdown_matches_nlp_nps(store: Store, finished: str) -> None:
    settings, sessions = store
    reference = _result_frame(_rows(sessions, finished))
    result = breakdown(load_rollup(settings, finished))
    score = result["score"]
    assert score["summary"] == nps.nps_summary(reference["nps"]).as_dict()
    assert _records(pd.DataFrame(score["driver_impact"]).set_index("topic")) == _records(
        nps.driver_impact(reference, "nps")
    )
    assert score["key_drivers"] == _records(nps.key_drivers(reference, "nps").set_index("topic"))
    by_topic = nps.nps_by_topic(reference, "nps")
    assert [row["nps"] for row in score["by_topic"]] == [
        None if np.isnan(v) else v for v in by_topic["nps"]
    ]
    mentions = nps.topic_mentions(reference)
    assert [t["mentions"] for t in result["topics"]] == [int(mentions[t].sum()) for t in mentions]


def test_unscored_breakdown_uses_predicted_detractors(
    store: Store, analyzer: Analyzer, tmp_path: Path
) -> None:
    settings, sessions = store
    path = write_csv(tmp_path / "f.csv", feedback_rows(60, special=False))
    batch_id = _new_batch(settings, sessions, path, score=False)
    assert process_batch(BatchContext(settings, sessions, analyzer), batch_id) == DONE
    result = breakdown(load_rollup(settings, batch_id))
    reference = _result_frame(_rows(sessions, batch_id))
    assert result["score"] is None
    assert result["predicted"]["summary"] == nps.predicted_detractor_summary(reference)
    expected = nps.predicted_driver_impact(reference)
    assert [r["impact"] for r in result["predicted"]["driver_impact"]] == [
        None if np.isnan(v) else v for v in expected["impact"]
    ]
    expected_drivers = _records(nps.key_drivers(reference).set_index("topic"))
    assert result["predicted"]["key_drivers"] == expected_drivers


def test_filters_select_rows(store: Store, finished: str) -> None:
    settings, sessions = store
    frame = load_rollup(settings, finished)
    rows = _rows(sessions, finished)
    filters = Filters.from_query(
        ["branch:Quận 1", "branch:Cầu Giấy", "channel:app"],
        ["branch", "channel", "id"],
        date_from=pd.Timestamp("2026-08-15").date(),
        date_to=pd.Timestamp("2026-09-30").date(),
    )
    expected = [
        r.row_no
        for r in rows
        if r.meta["branch"] in ("Quận 1", "Cầu Giấy")
        and r.meta["channel"] == "app"
        and r.date is not None
        and "2026-08-15" <= r.date <= "2026-09-30"
    ]
    assert frame["row_no"][filter_mask(frame, filters)].tolist() == expected
    result = breakdown(frame, filters)
    assert result["rows"] == len(expected) and result["rows_total"] == ROWS
    assert sum(result["sentiment"].values()) == len(expected)
    months = {m["period"]: m["rows"] for m in result["trends"]["month"]}
    kept_months = Counter((r.date or "")[:7] for r in rows if r.row_no in expected)
    assert months == dict(kept_months)
    with pytest.raises(MissingColumnError) as caught:
        Filters.from_query(["vung:Bắc"], ["branch", "channel"])
    assert caught.value.details["available"] == ["branch", "channel"]


def test_columns_list_metadata_values(store: Store, finished: str) -> None:
    columns = column_values(load_rollup(store[0], finished))
    branch = next(c for c in columns["metadata"] if c["name"] == "branch")
    assert sorted(v["value"] for v in branch["values"]) == sorted(
        ["Quận 1", "Quận 7", "Cầu Giấy", "Hải Châu", "Thủ Đức"]
    )
    assert sum(v["rows"] for v in branch["values"]) == ROWS
    assert (columns["date_min"], columns["score_scale"]) == ("2026-08-03", "nps")


def test_comment_pages_search_and_sort(store: Store, finished: str) -> None:
    settings, sessions = store
    frame = load_rollup(settings, finished)
    rows = {r.row_no: r for r in _rows(sessions, finished)}
    page = select_page(
        settings, finished, frame, None, q="NHAN VIEN", sort="detractor", page=1, page_size=5
    )
    matching = [n for n, r in rows.items() if "nhan vien" in fold(r.text or "")]
    assert page.total == len(matching) and len(page.row_nos) == 5
    probabilities = [rows[n].detractor_probability for n in page.row_nos]
    assert probabilities == sorted(probabilities, reverse=True)  # type: ignore[type-var]
    negative_people = select_page(
        settings, finished, frame, Filters(topic="people", polarity="negative"),
        q=None, sort="row", page=1, page_size=500,
    )  # fmt: skip
    assert negative_people.row_nos == [
        n
        for n, r in rows.items()
        if r.result and r.result["topic_sentiments"].get("people") == "negative"
    ]


def test_evidence_spans_point_into_the_text() -> None:
    text = "Nhân viên dễ thương, nhưng GIÁ hơi cao; tuyet voi"
    evidence = {"price": ["giá hơi cao"], "people": ["nhân viên"], "product": ["tuyệt vời"]}
    spans = evidence_spans(text, evidence)
    assert [(s["topic"], text[s["start"] : s["end"]]) for s in spans] == [
        ("people", "Nhân viên"),
        ("price", "GIÁ hơi cao"),
        ("product", "tuyet voi"),
    ]
    assert evidence_spans("giá", {"price": ["gi"]}) == []  # whole words only


# --- exports -----------------------------------------------------------------------------------


def test_csv_export_has_a_bom_escapes_formulas_and_keeps_order(store: Store, finished: str) -> None:
    sessions = store[1]
    with sessions() as session:
        batch = session.get(Batch, finished)
        assert batch is not None
    body = b"".join(csv_stream(sessions, batch))
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [int(r["row_no"]) for r in table] == list(range(1, ROWS + 1))
    assert table[12]["comment"] == '\'=HYPERLINK("http://evil.example","bấm vào")'
    assert table[16]["comment"].startswith("'-")
    assert table[18]["comment"].startswith("'@")
    assert table[22]["comment"] == "Nhân viên dễ thương.\nNhưng phải chờ lâu quá"
    assert (table[2]["nps"], table[2]["error_code"]) == ("", "E106_score_out_of_range")
    assert table[0]["nps"] == "9" and table[0]["branch"] == "Quận 1"
    assert all(not v.startswith(("=", "+", "-", "@")) for r in table for v in r.values())
    stored = _rows(sessions, finished)
    assert [r["sentiment"] for r in table] == [r.sentiment for r in stored]


def test_jsonl_and_xlsx_exports_hold_the_same_rows(store: Store, finished: str) -> None:
    from openpyxl import load_workbook

    sessions = store[1]
    with sessions() as session:
        batch = session.get(Batch, finished)
        assert batch is not None
    lines = b"".join(jsonl_stream(sessions, batch)).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["row_no"] for r in records] == list(range(1, ROWS + 1))
    assert records[12]["comment"].startswith("=HYPERLINK")  # JSON is not a spreadsheet
    assert records[0]["topic_sentiments"] == _rows(sessions, finished)[0].result["topic_sentiments"]  # type: ignore[index]
    path = exports.write_xlsx(sessions, batch)
    workbook = load_workbook(path, read_only=True)
    try:
        values = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()  # a read-only workbook keeps its file open until closed
        path.unlink()
    header = list(values[0])
    assert len(values) == ROWS + 1
    comment = header.index("comment")
    assert values[13][comment] == '\'=HYPERLINK("http://evil.example","bấm vào")'
    assert [v[header.index("row_no")] for v in values[1:]] == list(range(1, ROWS + 1))


def test_filtered_export_keeps_only_matching_rows(store: Store, finished: str) -> None:
    settings, sessions = store
    frame = load_rollup(settings, finished)
    chosen = filter_mask(frame, Filters(metadata={"branch": ("Hải Châu",)}))
    keep = frame["row_no"].to_numpy()[chosen]
    with sessions() as session:
        batch = session.get(Batch, finished)
        assert batch is not None
    lines = b"".join(jsonl_stream(sessions, batch, keep)).decode().splitlines()
    assert [json.loads(line)["row_no"] for line in lines] == keep.tolist()
    assert {json.loads(line)["branch"] for line in lines} == {"Hải Châu"}


def test_escape_formula() -> None:
    assert [escape_formula(v) for v in ["=1", "+1", "-1", "@a", "\tx", "\rx", "ok", ""]] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "ok", "",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_batch_on_postgresql_stores_the_same_rows(
    store: Store, finished: str, analyzer: Analyzer, postgres_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        settings = Settings(
            state_dir=tmp_path, database_url=postgres_url, batch_chunk_rows=CHUNK, redact_pii=True
        )
        settings.ensure_dirs()
        sessions = make_sessionmaker(engine)
        path = write_csv(tmp_path / "feedback.csv", feedback_rows(ROWS))
        batch_id = _new_batch(settings, sessions, path)
        context = BatchContext(settings, sessions, analyzer)
        stops = iter([True])
        assert process_batch(context, batch_id, should_stop=lambda: next(stops)) == RUNNING
        shutil.rmtree(parts_dir(settings, batch_id))  # the first chunk's rows come from the DB
        assert process_batch(context, batch_id) == DONE
        fields = ("row_no", "text", "sentiment", "topics", "score", "date", "meta", "result")
        on_postgres = [[getattr(r, f) for f in fields] for r in _rows(sessions, batch_id)]
        on_sqlite = [[getattr(r, f) for f in fields] for r in _rows(store[1], finished)]
        assert on_postgres == on_sqlite
        pd.testing.assert_frame_equal(
            load_rollup(settings, batch_id), load_rollup(store[0], finished)
        )
    finally:
        engine.dispose()
