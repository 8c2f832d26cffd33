"""Hostile files through ``POST /v1/batches`` on the real server.

Every case is one row of a table: the bytes sent, the client's file name, and what must happen.
A refused file gets a clear 4xx with a catalogued code, leaves nothing in the uploads folder,
and the server keeps serving; a file that is legitimately valid (BOM variants, formula cells,
odd file names, duplicate headers) is accepted and processed.
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from api.service.errors import catalogue
from tests.service.conftest import Service
from tests.service.test_batches import wait_done

pytestmark = pytest.mark.slow

COMMENTS = ("Nhân viên phục vụ nhiệt tình", "Giao hàng chậm quá", "Giá hơi cao nhưng ổn")
FORMULAS = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)")


def _csv(rows: list[list[str]], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def _simple_csv(encoding: str = "utf-8") -> bytes:
    return _csv(
        [["id", "comment"], *[[str(i), c] for i, c in enumerate(COMMENTS, 1)]], encoding=encoding
    )


def _xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip_bomb(uncompressed_mb: int = 300) -> bytes:
    """A valid-looking .xlsx whose first sheet's XML inflates to ``uncompressed_mb`` MB."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["comment"], ["ngon"]])))
    out = io.BytesIO()
    row = b'<row><c t="inlineStr"><is><t>' + b"a" * 200 + b"</t></is></c></row>"
    block = row * (4096 // len(row) + 1)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(item, source.read(item))
                continue
            with bomb.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(
                    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.'
                    b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                for _ in range(uncompressed_mb * (1 << 20) // len(block)):
                    sheet.write(block)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _garbage(size: int = 64 * 1024) -> bytes:
    return random.Random(9).randbytes(size)


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    body: Callable[[], bytes]
    #: A catalogued error code, or "accepted" (202 and the batch finishes).
    expect: str
    form: dict[str, str] | None = None


CASES = [
    Case("binary garbage .csv", "garbage.csv", _garbage, "E102_unreadable_encoding"),
    Case("binary garbage .xlsx", "garbage.xlsx", _garbage, "E105_malformed_file"),
    Case("binary garbage .jsonl", "garbage.jsonl", _garbage, "E102_unreadable_encoding"),
    Case("no extension", "comments", _simple_csv, "E101_unsupported_format"),
    Case("executable extension", "comments.exe", _simple_csv, "E101_unsupported_format"),
    Case(
        "csv cut mid-quote",
        "cut.csv",
        lambda: b'id,comment\r\n1,"Nh\xc3\xa2n vi\xc3\xaan ph\xe1\xbb\xa5c v\xe1\xbb\xa5',
        "E105_malformed_file",
    ),
    Case(
        "xlsx zip truncated",
        "cut.xlsx",
        lambda: _xlsx([["comment"], *[[c] for c in COMMENTS]])[:1500],
        "E105_malformed_file",
    ),
    Case(
        "shift-jis bytes",
        "sjis.csv",
        lambda: "comment\r\n日本語のコメントです\r\n".encode("shift_jis"),
        "E102_unreadable_encoding",
    ),
    Case("utf-32 bytes", "utf32.csv", lambda: _simple_csv("utf-32"), "E102_unreadable_encoding"),
    Case("xlsx zip bomb", "bomb.xlsx", _zip_bomb, "E105_malformed_file"),
    Case(
        "mismatched quotes",
        "quotes.csv",
        lambda: b'id,comment\r\n1,"ngon"qua",x\r\n2,"ok\r\n',
        "E105_malformed_file",
    ),
    Case("empty file", "empty.csv", lambda: b"", "E104_empty_input"),
    Case("header only", "header.csv", lambda: b"id,comment\r\n", "E104_empty_input"),
    Case(
        "missing text column",
        "other.csv",
        lambda: _csv([["id", "text"], ["1", "ngon"]]),
        "E103_missing_column",
    ),
    Case(
        "10,000 columns",
        "wide.csv",
        lambda: _csv(
            [
                [f"c{i}" for i in range(9_999)] + ["comment"],
                *[[str(i)] * 9_999 + [c] for i, c in enumerate(COMMENTS)],
            ]
        ),
        "E413_payload_too_large",
    ),
    Case(
        "300 columns",
        "wide300.csv",
        lambda: _csv(
            [
                [f"c{i}" for i in range(299)] + ["comment"],
                *[[str(i)] * 299 + [c] for i, c in enumerate(COMMENTS)],
            ]
        ),
        "accepted",
    ),
    Case(
        "duplicate header names",
        "dupes.csv",
        lambda: _csv([["comment", "comment", "id"], ["ngon", "tệ", "1"], ["ổn", "chậm", "2"]]),
        "accepted",
    ),
    # Latin-1 text is mostly valid Windows-1258 (same letters at most code points): it cannot be
    # told apart, so it is read as Windows-1258, as Excel on a Vietnamese Windows would.
    Case(
        "latin-1 bytes",
        "latin1.csv",
        lambda: "id,comment\r\n1,Café très bon, service rapide\r\n".encode("latin-1"),
        "accepted",
    ),
    Case("empty file name", "/", _simple_csv, "E101_unsupported_format"),
    Case("utf-8 bom", "bom8.csv", lambda: codecs.BOM_UTF8 + _simple_csv(), "accepted"),
    Case(
        "utf-16 le bom",
        "bom16le.csv",
        lambda: codecs.BOM_UTF16_LE + _simple_csv("utf-16-le"),
        "accepted",
    ),
    Case(
        "utf-16 be bom",
        "bom16be.csv",
        lambda: codecs.BOM_UTF16_BE + _simple_csv("utf-16-be"),
        "accepted",
    ),
    Case(
        "formula cells",
        "formulas.csv",
        lambda: _csv([["id", "comment"], *[[f, f] for f in FORMULAS]]),
        "accepted",
    ),
    Case("path traversal name", "../../etc/passwd.csv", _simple_csv, "accepted"),
    Case("windows path name", "..\\..\\Windows\\gop_y.csv", _simple_csv, "accepted"),
    Case("NUL in name", "evil\x00.csv", _simple_csv, "accepted"),
]


def _uploads(service: Service) -> set[str]:
    folder = service.data_dir / "uploads"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file(service: Service, client: httpx.Client, case: Case) -> None:
    before = _uploads(service)
    form = case.form or {"text_column": "comment"}
    response = client.post("/v1/batches", files={"file": (case.filename, case.body())}, data=form)
    assert client.get("/healthz").status_code == 200
    if case.expect != "accepted":
        assert 400 <= response.status_code < 500, response.text
        error = response.json()["error"]
        assert error["code"] == case.expect, error
        assert catalogue()[error["code"]].status == response.status_code
        assert str(service.data_dir) not in response.text  # no server paths leak
        assert _uploads(service) == before
        return
    assert response.status_code == 202, response.text
    created = response.json()
    assert "/" not in created["filename"] and "\\" not in created["filename"]
    assert "\x00" not in created["filename"] and ".." not in created["filename"]
    assert {p for p in _uploads(service) - before} <= {f"{created['id']}.csv"}
    batch = wait_done(client, created["id"])
    assert batch["status"] == "done", batch
    assert batch["rows_done"] == batch["rows_total"]


def _downloads(client: httpx.Client, batch_id: str) -> tuple[list[dict[str, str]], list[Any]]:
    csv_body = client.get(f"/v1/batches/{batch_id}/results", params={"format": "csv"})
    assert csv_body.status_code == 200
    rows = list(csv.DictReader(io.StringIO(csv_body.content.decode("utf-8-sig"))))
    xlsx_body = client.get(f"/v1/batches/{batch_id}/results", params={"format": "xlsx"})
    assert xlsx_body.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx_body.content))
    sheet = workbook.worksheets[0]
    cells = [[cell for cell in row] for row in sheet.iter_rows()]
    workbook.close()
    return rows, cells


def test_formula_cells_are_escaped_in_downloads(service: Service, client: httpx.Client) -> None:
    body = _csv([["id", "comment"], *[[f, f] for f in FORMULAS]])
    response = client.post(
        "/v1/batches", files={"file": ("formulas.csv", body)}, data={"text_column": "comment"}
    )
    assert response.status_code == 202, response.text
    batch = wait_done(client, response.json()["id"])
    assert batch["status"] == "done"
    rows, cells = _downloads(client, batch["id"])
    assert [r["comment"] for r in rows] == ["'" + f for f in FORMULAS]
    assert [r["id"] for r in rows] == ["'" + f for f in FORMULAS]
    header = [c.value for c in cells[0]]
    for row in cells[1:]:
        comment = row[header.index("comment")]
        assert comment.data_type == "s"  # text, never a formula
        assert str(comment.value).startswith("'")
    # The JSON view keeps the text as written: escaping is only for spreadsheets.
    page = client.get(f"/v1/batches/{batch['id']}/comments").json()
    assert sorted(item["text"] for item in page["items"]) == sorted(FORMULAS)


def test_cell_bigger_than_the_csv_field_limit(
    service: Service, client: httpx.Client, tmp_path: Path
) -> None:
    """One 50 MB comment: far above Python csv's 128 KiB field limit (pandas' C parser has
    none). Accepted and analysed: the analyser truncates hostile text (flag ``truncated``)."""
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b'id,comment\r\n1,"')
        chunk = "Nhân viên phục vụ rất tệ. ".encode() * 4096
        for _ in range(50 * (1 << 20) // len(chunk)):
            handle.write(chunk)
        handle.write(b'"\r\n2,ngon\r\n')
    with path.open("rb") as handle:
        response = client.post(
            "/v1/batches", files={"file": ("huge.csv", handle)}, data={"text_column": "comment"}
        )
    assert client.get("/healthz").status_code == 200
    assert response.status_code == 202, response.text
    batch = wait_done(client, response.json()["id"])
    assert batch["status"] == "done", batch
    assert (batch["rows_done"], batch["rows_failed"]) == (2, 0)
    breakdown = client.get(f"/v1/batches/{batch['id']}/breakdown").json()
    assert breakdown["rows"] == 2
    page = client.get(f"/v1/batches/{batch['id']}/comments").json()
    huge = next(item for item in page["items"] if item["row_no"] == 1)
    # The page shows what the Analyzer read, not 38 million characters.
    assert huge["text_truncated"] is True
    assert len(huge["text"]) == 10_000
    assert "truncated" in huge["result"]["flags"]
    short = next(item for item in page["items"] if item["row_no"] == 2)
    assert (short["text"], short["text_truncated"]) == ("ngon", False)
