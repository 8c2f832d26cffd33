"""`vicx analyze` for real: the installed console script on real files, every format and error."""

from __future__ import annotations

import codecs
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, run_cli

EXAMPLE = REPO / "examples" / "reviews.csv"
COMMENTS = [
    "Nhân viên rất nhiệt tình, tôi rất hài lòng",
    "Chờ 2 tiếng không ai tiếp, thái độ quá tệ",
    "",
    "Cho hỏi mấy giờ chi nhánh mở cửa?",
]


def _windows_1258(text: str) -> bytes:
    """Encode as Windows does: precomposed base letters (ă, ơ ...) plus combining tone marks."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            base, tone = unicodedata.normalize("NFC", decomposed[:-1]), decomposed[-1]
            out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


def _refuse_non_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not valid JSON")


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "comment": COMMENTS, "branch": ["Q1", "Q3", "Q1", "Q7"]}
    )


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx"])
def test_analyze_round_trips_every_format(tmp_path: Path, suffix: str) -> None:
    source = tmp_path / f"in{suffix}"
    frame = _frame()
    if suffix == ".csv":
        frame.to_csv(source, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(source, index=False)
    else:
        frame.to_json(source, orient="records", lines=True, force_ascii=False)
    output = tmp_path / f"out{suffix}"
    done = run_cli(
        "analyze", str(source), "--text-column", "comment", "--output", str(output), "-q"
    )
    assert done.returncode == 0, done.stderr
    assert "analysed 4 rows" in done.stderr
    if suffix == ".jsonl":
        rows = [
            json.loads(line, parse_constant=_refuse_non_json)
            for line in output.read_text(encoding="utf-8").splitlines()
        ]
        assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
        assert rows[0]["sentiment"] == "positive" and rows[1]["sentiment"] == "negative"
        assert rows[2]["flags"] == ["empty_text"] and rows[2]["sentiment"] == "neutral"
        assert rows[2]["detractor_probability"] is None
        assert 0.0 <= rows[1]["detractor_probability"] <= 1.0
        assert set(rows[0]["sentiment_scores"]) == {"positive", "neutral", "negative"}
    else:
        result = (
            pd.read_csv(output, dtype=str, keep_default_na=False)
            if suffix == ".csv"
            else pd.read_excel(output, dtype=str, keep_default_na=False)
        )
        assert list(result["id"]) == ["a", "b", "c", "d"]
        assert list(result["branch"]) == ["Q1", "Q3", "Q1", "Q7"]
        assert {"sentiment_score_negative", "topics", "topic_score_price", "flags"} <= set(
            result.columns
        )
        assert result.loc[2, "flags"] == "empty_text"
    assert not (tmp_path / f"out{suffix}.partial").exists()


@pytest.mark.slow
def test_csv_output_has_a_bom_and_keeps_vietnamese(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    done = run_cli("analyze", str(EXAMPLE), "-c", "comment", "-o", str(output), "-q")
    assert done.returncode == 0, done.stderr
    raw = output.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert "Nhân viên tư vấn rất nhiệt tình" in raw.decode("utf-8-sig")


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1258"])
def test_reads_the_encodings_excel_and_windows_write(tmp_path: Path, encoding: str) -> None:
    source = tmp_path / "in.csv"
    text = "comment\nPhục vụ tốt\nGiá đắt quá\n"
    source.write_bytes(_windows_1258(text) if encoding == "cp1258" else text.encode(encoding))
    output = tmp_path / "out.jsonl"
    done = run_cli("analyze", str(source), "-c", "comment", "-o", str(output), "-q")
    assert done.returncode == 0, done.stderr
    texts = [
        json.loads(line)["comment"] for line in output.read_text(encoding="utf-8").splitlines()
    ]
    assert texts == ["Phục vụ tốt", "Giá đắt quá"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "args", "code", "message"),
    [
        (
            b"id,comment\n1,hay\n",
            ["-c", "binh_luan"],
            "E103_missing_column",
            "available: id, comment",
        ),
        (b"", ["-c", "comment"], "E104_empty_input", "is empty"),
        (b"comment\n", ["-c", "comment"], "E104_empty_input", "no rows"),
        (bytes(range(256)) * 40, ["-c", "comment"], "E102_unreadable_encoding", "UTF-8"),
    ],
)
def test_bad_input_gets_a_clear_error_and_no_output(
    tmp_path: Path, content: bytes, args: list[str], code: str, message: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    output = tmp_path / "out.csv"
    done = run_cli("analyze", str(source), *args, "-o", str(output), "-q")
    assert done.returncode == 2
    assert code in done.stderr and message in done.stderr
    assert "Traceback" not in done.stderr
    assert not output.exists() and not (tmp_path / "out.csv.partial").exists()


@pytest.mark.slow
def test_unknown_extension_and_broken_jsonl(tmp_path: Path) -> None:
    done = run_cli("analyze", str(EXAMPLE), "-c", "comment", "-o", str(tmp_path / "out.parquet"))
    assert done.returncode == 2 and "E101_unsupported_format" in done.stderr
    broken = tmp_path / "in.jsonl"
    broken.write_text('{"comment": "tốt"}\n{"comment": \n', encoding="utf-8")
    done = run_cli("analyze", str(broken), "-c", "comment", "-o", str(tmp_path / "o.jsonl"))
    assert done.returncode == 2 and "line 2" in done.stderr and "E105_malformed_file" in done.stderr


@pytest.mark.slow
def test_input_column_named_like_a_result_field_is_kept(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame({"comment": ["tệ quá"], "sentiment": ["mine"]}).to_csv(source, index=False)
    output = tmp_path / "out.jsonl"
    assert run_cli("analyze", str(source), "-c", "comment", "-o", str(output), "-q").returncode == 0
    row = json.loads(output.read_text(encoding="utf-8"))
    assert row["input_sentiment"] == "mine" and row["sentiment"] == "negative"
