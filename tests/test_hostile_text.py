"""Hostile text through the normaliser, ``Analyzer.analyze`` and ``vicx analyze``.

Nothing may crash, and every Result keeps the contract (``nlp.robustness.contract_problems``).
The inputs are the hand-written ``tests/data/naughty_strings.json``, the generated cases of
``nlp.robustness`` (1 MB comments, every vowel x tone mark in NFC and NFD, the shapes that made
a pattern superlinear) and hypothesis. Time is measured by ``vicx bench-robustness``, not here.
"""

from __future__ import annotations

import csv
import json
import math
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.analyzer import MAX_TEXT_CHARS, Analyzer
from nlp.errors import InputError
from nlp.normalize import normalize
from nlp.result import FLAG_TRUNCATED, RESULT_FIELDS, Result
from nlp.robustness import (
    NOT_TEXT,
    SENTENCE,
    contract_problems,
    generated_cases,
    load_naughty_strings,
    repeated,
    vowel_tone_grid,
)
from nlp.taxonomy import topic_names
from tests.conftest import run_cli

NAUGHTY = load_naughty_strings()
TOPICS = topic_names()
#: Characters the normaliser must never let through: controls, format marks, surrogates,
#: private use, unassigned code points and line or paragraph separators.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Deterministic, so CI never finds a new example on its own; bounded, so the file stays fast.
HOSTILE_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

fragments = st.sampled_from(
    [text for _, text in NAUGHTY if len(text) < 300]
    + ["nhân viên", "phục vụ chậm", "giá", "150k", "0912 345 678", "không", "nhưng", ",", "."]
)
any_characters = st.text(alphabet=st.characters(blacklist_categories=()), max_size=10)
hostile_texts = st.lists(st.one_of(fragments, any_characters), max_size=12).map(
    " ".join
) | st.lists(st.one_of(fragments, any_characters), max_size=12).map("".join)
cells = st.one_of(
    hostile_texts,
    st.none(),
    st.just(math.nan),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


def assert_contract(results: list[Result], items: list[object]) -> None:
    assert len(results) == len(items)
    for result, item in zip(results, items, strict=True):
        assert contract_problems(result, item, TOPICS) == [], repr(item)[:200]


def assert_normal_form(normalised: str) -> None:
    assert normalised == " ".join(normalised.split())
    assert normalised == unicodedata.normalize("NFC", normalised)
    assert not {unicodedata.category(char) for char in normalised} & INVISIBLE_CATEGORIES


def test_naughty_list_covers_every_category() -> None:
    categories = {name.split(" #")[0] for name, _ in NAUGHTY}
    assert categories == {
        "empty_and_whitespace",
        "null_and_control",
        "lone_surrogates_and_noncharacters",
        "rtl_and_zero_width",
        "emoji",
        "html_js_and_injection",
        "sql_like",
        "mixed_scripts",
        "vietnamese_edge",
        "numbers_and_punctuation",
    }
    assert all(isinstance(text, str) for _, text in NAUGHTY)


def _valid_result() -> Result:
    return Result(
        sentiment="negative",
        sentiment_scores={"positive": 0.1, "neutral": 0.2, "negative": 0.7},
        topics=["process"],
        topic_scores=dict.fromkeys(TOPICS, 0.1) | {"process": 0.9},
        topic_sentiments={"process": "negative"},
        detractor_probability=0.8,
        evidence={"process": ["chậm"]},
    )


@pytest.mark.parametrize(
    ("field", "value", "item"),
    [
        ("sentiment", "angry", "x"),
        ("sentiment_scores", {"positive": 0.5, "neutral": 0.5, "negative": 0.5}, "x"),
        ("sentiment_scores", {"positive": 1.0}, "x"),
        ("topic_scores", {"process": 1.5}, "x"),
        ("topics", ["process", "weather"], "x"),
        ("topic_sentiments", {}, "x"),
        ("evidence", {"price": ["giá"]}, "x"),
        ("detractor_probability", -0.1, "x"),
        ("flags", [], "x" * (MAX_TEXT_CHARS + 1)),
        ("flags", [], None),
    ],
)
def test_contract_check_reports_each_broken_field(field: str, value: object, item: object) -> None:
    assert contract_problems(_valid_result(), "x", TOPICS) == []
    broken = _valid_result()
    setattr(broken, field, value)
    assert contract_problems(broken, item, TOPICS) != []


@pytest.mark.parametrize(("name", "text"), NAUGHTY, ids=[name for name, _ in NAUGHTY])
def test_normalize_naughty_string(name: str, text: str) -> None:
    normalised = normalize(text)
    assert_normal_form(normalised)
    assert normalize(normalised) == normalised


@pytest.mark.parametrize(("name", "item"), NOT_TEXT, ids=[name for name, _ in NOT_TEXT])
def test_normalize_refuses_what_is_not_text(name: str, item: object) -> None:
    with pytest.raises(InputError):
        normalize(item)  # type: ignore[arg-type]


def test_analyze_naughty_strings_in_order(analyzer: Analyzer) -> None:
    items: list[object] = [text for _, text in NAUGHTY] + [item for _, item in NOT_TEXT]
    results = analyzer.analyze(items)
    assert_contract(results, items)
    # Each Result depends on its own item only: the reversed batch gives the reversed results.
    assert analyzer.analyze(items[::-1])[::-1] == results


def test_analyze_generated_cases(analyzer: Analyzer) -> None:
    items: list[object] = [text for _, text in generated_cases()]
    assert_contract(analyzer.analyze(items), items)


def test_long_text_is_analysed_from_its_beginning(analyzer: Analyzer) -> None:
    limit = repeated(SENTENCE, MAX_TEXT_CHARS)
    longer = limit + "Nhân viên thô lỗ, tệ hại." * 1000
    at_limit, cut = analyzer.analyze([limit, longer])
    assert at_limit.flags == []
    assert cut.flags == [FLAG_TRUNCATED]
    cut.flags = []
    assert cut == at_limit


def test_vowels_with_tone_marks_read_the_same_in_nfc_and_nfd(analyzer: Analyzer) -> None:
    nfc, nfd = vowel_tone_grid("NFC"), vowel_tone_grid("NFD")
    assert nfc != nfd
    assert [normalize(v) for v in nfc] == [normalize(v) for v in nfd]
    syllables = [" ".join(f"ng{v}n" for v in grid) for grid in (nfc, nfd)]
    first, second = analyzer.analyze(syllables)
    assert first == second


def test_megabyte_strings_normalise_in_normal_form() -> None:
    for name, text in generated_cases():
        if name in {"1 MB of Vietnamese, NFD", "1 MB of NUL", "1 MB of ZWJ family emoji"}:
            assert_normal_form(normalize(text))


@HOSTILE_SETTINGS
@given(hostile_texts)
def test_normalize_any_text(text: str) -> None:
    assert_normal_form(normalize(text))


@HOSTILE_SETTINGS
@given(st.lists(cells, max_size=6))
def test_analyze_any_cells(analyzer: Analyzer, items: list[object]) -> None:
    assert_contract(analyzer.analyze(items), items)


# --- the CLI on files holding all of it -------------------------------------------------------


def _rows_of(path: Path) -> list[dict[str, Any]]:
    # Not splitlines(): it also splits on U+2028 and other separators the JSON strings may hold.
    with path.open(encoding="utf-8", newline="\n") as handle:
        return [json.loads(line) for line in handle]


def _assert_output_contract(output: Path, items: list[object]) -> None:
    rows = _rows_of(output)
    assert [str(row["id"]) for row in rows] == [str(i) for i in range(len(items))]
    results = [Result(**{name: row[name] for name in RESULT_FIELDS}) for row in rows]
    assert_contract(results, [row["comment"] for row in rows])


# Lone surrogates cannot be stored as UTF-8: a CSV cannot hold them, a JSONL spells them "\ud800".
FILE_TEXTS = [text for _, text in NAUGHTY] + [repeated(SENTENCE, 1_000_000)]


@pytest.mark.slow
def test_cli_analyses_a_csv_of_naughty_strings(tmp_path: Path) -> None:
    writable = [text.encode("utf-8", "replace").decode("utf-8") for text in FILE_TEXTS]
    source = tmp_path / "naughty.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment"])
        writer.writerows([str(i), text] for i, text in enumerate(writable))
    output = tmp_path / "out.jsonl"
    done = run_cli("analyze", str(source), "-c", "comment", "-o", str(output), "-q")
    assert done.returncode == 0, done.stderr
    assert "1 rows longer than 10,000 characters" in done.stderr
    _assert_output_contract(output, list(writable))


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl", ".xlsx"])
def test_cli_analyses_a_jsonl_of_naughty_strings_and_non_text(tmp_path: Path, suffix: str) -> None:
    items = [*FILE_TEXTS, *(item for _, item in NOT_TEXT if not isinstance(item, bytes))]
    source = tmp_path / "naughty.jsonl"
    # json.dumps escapes lone surrogates ("\ud800") and writes NaN and Infinity bare, as Python
    # does; vicx reads those two as null.
    source.write_text(
        "".join(json.dumps({"id": i, "comment": item}) + "\n" for i, item in enumerate(items)),
        encoding="utf-8",
    )
    output = tmp_path / f"out{suffix}"
    done = run_cli("analyze", str(source), "-c", "comment", "-o", str(output), "-q")
    assert done.returncode == 0, done.stderr
    assert output.is_file()
    if suffix == ".jsonl":
        _assert_output_contract(output, items)
