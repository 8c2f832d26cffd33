"""The dashboard's pure parts: labels, highlighting, column guesses, origin checks, periods."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from api.dashboard.access import same_origin
from api.dashboard.highlight import highlight
from api.dashboard.i18n import MESSAGES, Translator, pick_language
from api.dashboard.preview import preview_bytes
from api.dashboard.views import _period_range
from nlp.taxonomy import load_taxonomy
from tests.conftest import REPO


def test_every_label_has_both_languages_and_the_same_placeholders() -> None:
    for key, (vi, en) in MESSAGES.items():
        assert vi.strip() and en.strip(), key
        assert sorted(_fields(vi)) == sorted(_fields(en)), key


def _fields(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def test_topic_labels_come_from_the_taxonomy_file() -> None:
    for topic in load_taxonomy():
        assert Translator("vi").topic(topic.name) == topic.label_vi
        assert Translator("en").topic(topic.name) == topic.label_en


@pytest.mark.parametrize(
    ("query", "cookie", "expected"),
    [("en", "vi", "en"), (None, "en", "en"), (None, None, "vi"), ("fr", None, "vi")],
)
def test_language_choice(query: str | None, cookie: str | None, expected: str) -> None:
    assert pick_language(query, cookie) == expected


def test_highlight_escapes_text_and_keeps_the_first_of_overlapping_spans() -> None:
    text = "Giá <cao> nhưng nhân viên dễ thương"
    spans = [
        {"topic": "price", "start": 0, "end": 3},
        {"topic": "people", "start": 16, "end": 25},
        {"topic": "people", "start": 20, "end": 35},  # overlaps the previous span
    ]
    html = str(highlight(text, spans, {"price": "negative", "people": "positive"}))
    assert html == (
        '<mark class="ev ev-negative" data-topic="price">Giá</mark> &lt;cao&gt; nhưng '
        '<mark class="ev ev-positive" data-topic="people">nhân viên</mark> dễ thương'
    )


def test_preview_guesses_the_comment_score_and_date_columns() -> None:
    content = (REPO / "examples" / "reviews.csv").read_bytes()
    preview = preview_bytes(content, "reviews.csv", partial=False)
    assert preview.columns == ["id", "branch", "date", "nps", "comment"]
    assert (preview.text_column, preview.score_column, preview.date_column) == (
        "comment",
        "nps",
        "date",
    )
    assert len(preview.rows) == 5


def test_preview_of_a_slice_drops_the_cut_line() -> None:
    content = (REPO / "examples" / "reviews.csv").read_bytes()
    cut = content.index("thủ tục".encode()) + 2  # inside a multi-byte letter of row 1
    preview = preview_bytes(content[: content.index(b"\n", cut) + 40], "r.csv", partial=True)
    assert len(preview.rows) == 1


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/batches",
        "headers": [(b"host", b"127.0.0.1:8000"), *raw],
        "server": ("127.0.0.1", 8000),
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:8000"}, False),
        ({"Origin": "http://127.0.0.1:8000"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({}, True),  # not a browser: nothing a hostile page could have sent
    ],
)
def test_form_posts_from_other_sites_are_refused(headers: dict[str, str], allowed: bool) -> None:
    assert same_origin(_request(headers)) is allowed


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-02", ("2026-02-01", "2026-02-28")),
        ("2026-12", ("2026-12-01", "2026-12-31")),
        ("2026-W41", ("2026-10-05", "2026-10-11")),
    ],
)
def test_trend_periods_map_to_date_ranges(period: str, expected: tuple[str, str]) -> None:
    assert _period_range(period) == expected
