"""The labelled-set reader rejects malformed rows with the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.errors import GoldSetError
from nlp.labelled import read_labelled

GOOD = {
    "id": "t-bank-0001",
    "text": "Đợi 40 phút mới tới lượt",
    "sentiment": "negative",
    "topics": {"process": "negative"},
    "nps": 3,
    "industry": "banking",
    "style": "standard",
    "hard_cases": ["implicit_topic"],
}


def _write(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "set.jsonl"
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_valid_row_is_read(tmp_path: Path) -> None:
    [comment] = read_labelled([_write(tmp_path, GOOD, "")])
    assert comment.topics == {"process": "negative"} and comment.is_detractor
    assert comment.source == "set" and comment.split is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a list"]', "line 2: each line must be a JSON object"),
        (GOOD | {"id": "x", "topics": {"quality": "positive"}}, "unknown topic 'quality'"),
        (GOOD | {"id": "x", "topics": {"price": "bad"}}, "polarity 'bad' of price"),
        (GOOD | {"id": "x", "nps": 11}, "nps 11 is not an integer 0-10"),
        (GOOD | {"id": "x", "nps": True}, "nps True is not an integer 0-10"),
        (GOOD | {"id": "x", "text": "  "}, "empty text"),
        (GOOD | {"id": "x", "style": "fancy"}, "style 'fancy'"),
        (GOOD, "duplicate id t-bank-0001"),
        (
            {k: v for k, v in GOOD.items() if k != "industry"} | {"id": "x"},
            "missing field 'industry'",
        ),
    ],
)
def test_malformed_rows_are_refused_with_their_line(
    tmp_path: Path, row: object, message: str
) -> None:
    with pytest.raises(GoldSetError, match="line 2") as caught:
        read_labelled([_write(tmp_path, GOOD, row)])
    assert message in caught.value.message
    assert caught.value.code == "E302_gold_set_invalid"


def test_gold_rows_need_a_split(tmp_path: Path) -> None:
    with pytest.raises(GoldSetError, match="split None"):
        read_labelled([_write(tmp_path, GOOD)], require_split=True)
