"""Real Vietnamese feedback files for the batch tests, built from examples/reviews.csv and the
team's gold set (data/gold, which carries an NPS score per comment).

Each file gets an NPS column, a date, a branch and a channel, plus a few rows that a real export
holds: an unreadable score, a score off the scale, an unreadable date, an empty comment, cells
that a spreadsheet would run as formulas, a comment with a line break and one with a phone
number.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

REPO: Final = Path(__file__).resolve().parents[2]
BRANCHES: Final = ("Quận 1", "Quận 7", "Cầu Giấy", "Hải Châu", "Thủ Đức")
CHANNELS: Final = ("app", "tổng đài", "quầy")
COLUMNS: Final = ("id", "branch", "channel", "ngay", "nps", "comment")
START: Final = date(2026, 8, 3)

#: Row number (1-based, data rows) -> what is wrong with it, for the first 40 rows.
SPECIAL_ROWS: Final[dict[int, dict[str, Any]]] = {
    3: {"nps": "mười"},  # not a number: E106
    5: {"nps": "11"},  # off the NPS scale: E106
    8: {"ngay": "hôm qua"},  # not a date: E109
    11: {"comment": ""},  # empty: flagged empty_text by the Analyzer, not an error
    13: {"comment": '=HYPERLINK("http://evil.example","bấm vào")'},
    17: {"comment": "-  giao hàng chậm, nhân viên thờ ơ"},
    19: {"comment": "@admin phục vụ quá tệ"},
    23: {"comment": "Nhân viên dễ thương.\nNhưng phải chờ lâu quá"},
    29: {"comment": "Gọi mình số 0912345678 để xin lỗi nhé, thái độ nhân viên quá tệ"},
    31: {"ngay": "05/10/2026"},  # dd/mm/yyyy is a date
}


def feedback_texts() -> list[tuple[str, int | None]]:
    """(comment, NPS) pairs: the ten example reviews, then the 651 gold comments."""
    pairs: list[tuple[str, int | None]] = []
    with (REPO / "examples" / "reviews.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            pairs.append((row["comment"], int(row["nps"])))
    for name in ("gold_a.jsonl", "gold_b.jsonl"):
        with (REPO / "data" / "gold" / name).open(encoding="utf-8") as handle:
            for line in handle:
                item = json.loads(line)
                pairs.append((item["text"], item["nps"]))
    return pairs


def feedback_rows(count: int, *, special: bool = True) -> list[dict[str, str]]:
    """``count`` rows cycling through the real comments, with metadata and the special rows."""
    pairs = feedback_texts()
    rows = []
    for index in range(count):
        text, score = pairs[index % len(pairs)]
        row = {
            "id": str(index + 1),
            "branch": BRANCHES[index % len(BRANCHES)],
            "channel": CHANNELS[(index // 2) % len(CHANNELS)],
            "ngay": (START + timedelta(days=(index * 7) % 90)).isoformat(),
            "nps": "" if score is None else str(score),
            "comment": text,
        }
        if special and index + 1 in SPECIAL_ROWS:
            row |= SPECIAL_ROWS[index + 1]
        rows.append(row)
    return rows


#: Windows-1258 writes the five tone marks as combining characters after the letter.
_TONES: Final = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258_form(text: str) -> str:
    """Text as Windows-1258 spells it: precomposed vowel marks, combining tone marks."""
    letters = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        letters.append(base + tones)
    return "".join(letters)


def stored_text(text: str) -> str:
    """A comment as the service stores it: NFC, PII redacted (when nlp.pii is installed)."""
    nfc = unicodedata.normalize("NFC", text)
    try:
        from nlp.pii import redact
    except ImportError:
        return nfc
    stored: str = redact(nfc)
    return stored


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8") -> Path:
    if encoding == "cp1258":
        rows = [{k: windows_1258_form(v) for k, v in row.items()} for row in rows]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        # A leading "=" would be stored as a formula by openpyxl; keep these rows as text.
        sheet.append([row[c] for c in COLUMNS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    workbook.save(path)
    return path
