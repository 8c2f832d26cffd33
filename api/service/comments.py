"""Comment drill-down: which rows a page shows, text search, and evidence spans to highlight.

Structured filters (topic, polarity, sentiment, metadata, dates) run on the rollup frame; the
free-text search ``q`` runs on a second Parquet file of the stored texts, folded (lower case,
no diacritics) so ``giao hang`` finds ``Giao hàng``. Only the page's rows are read from the
database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from api.service.folding import fold
from api.service.models import BatchRow
from api.service.rollups import Filters, filter_mask, texts_path
from api.service.settings import Settings

SORTS: Final = ("row", "detractor", "score")
_SEARCH_CACHE: Final = 4


def _search_texts(settings: Settings, batch_id: str) -> pd.Series:
    path = texts_path(settings, batch_id)
    stat = path.stat()
    return _read_search(str(path), stat.st_mtime_ns)


@lru_cache(maxsize=_SEARCH_CACHE)
def _read_search(path: str, _mtime_ns: int) -> pd.Series:
    frame = pd.read_parquet(path)
    return pd.Series(frame["folded"].to_numpy(), index=frame["row_no"].to_numpy())


@dataclass(frozen=True)
class CommentPage:
    row_nos: list[int]
    total: int
    page: int
    page_size: int


def select_page(
    settings: Settings,
    batch_id: str,
    frame: pd.DataFrame,
    filters: Filters | None,
    *,
    q: str | None,
    sort: str,
    page: int,
    page_size: int,
) -> CommentPage:
    """The row numbers on one page of the comments matching ``filters`` and ``q``.

    ``sort``: ``row`` (file order), ``detractor`` (highest detractor probability first) or
    ``score`` (lowest score first); ties keep file order.
    """
    keep = filter_mask(frame, filters)
    if q and q.strip():
        texts = _search_texts(settings, batch_id)
        found = texts.str.contains(fold(q.strip()), regex=False).to_numpy()
        keep &= found[np.searchsorted(texts.index.to_numpy(), frame["row_no"].to_numpy())]
    chosen = frame.loc[keep, ["row_no", "detractor_probability", "score"]]
    if sort == "detractor":
        chosen = chosen.sort_values(
            ["detractor_probability", "row_no"], ascending=[False, True], na_position="last"
        )
    elif sort == "score":
        chosen = chosen.sort_values(["score", "row_no"], ascending=True, na_position="last")
    start = (page - 1) * page_size
    return CommentPage(
        row_nos=[int(n) for n in chosen["row_no"].iloc[start : start + page_size]],
        total=len(chosen),
        page=page,
        page_size=page_size,
    )


def read_rows(
    session: Session, batch_id: str, row_nos: Sequence[int], *, text_limit: int
) -> list[tuple[BatchRow, str | None, bool]]:
    """The stored rows in the order of ``row_nos``, each with its text cut to ``text_limit``
    characters and whether it was cut. The cut happens in the database: a page of comments does
    not read a multi-megabyte cell whole to show its first ``text_limit`` characters."""
    if not row_nos:
        return []
    head = func.substr(BatchRow.text, 1, text_limit + 1)
    found = session.execute(
        select(BatchRow, head)
        .options(defer(BatchRow.text))
        .where(BatchRow.batch_id == batch_id, BatchRow.row_no.in_(row_nos))
    ).all()
    by_number = {
        row.row_no: (row, None if text is None else text[:text_limit], len(text or "") > text_limit)
        for row, text in found
    }
    return [by_number[n] for n in row_nos if n in by_number]


def evidence_spans(text: str | None, evidence: Mapping[str, Iterable[str]]) -> list[dict[str, Any]]:
    """Character spans of each topic's evidence words in ``text``, for highlighting.

    Matching ignores case and diacritics and respects word boundaries; evidence the
    normaliser rewrote (teencode "ko" -> "không") may not appear verbatim and has no span.

    >>> spans = evidence_spans("Đồ ăn NGON nhưng giá cao", {"product": ["ngon"], "price": ["giá"]})
    >>> [(s["topic"], s["start"], s["end"], s["text"]) for s in spans]
    [('product', 6, 10, 'NGON'), ('price', 17, 20, 'giá')]
    """
    if not text:
        return []
    original = unicodedata.normalize("NFC", text)
    folded = fold(original)
    spans = []
    for topic, words in evidence.items():
        for word in words:
            needle = fold(word).strip()
            if not needle:
                continue
            pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")
            for match in pattern.finditer(folded):
                spans.append(
                    {
                        "topic": topic,
                        "start": match.start(),
                        "end": match.end(),
                        "text": original[match.start() : match.end()],
                    }
                )
    spans.sort(key=lambda span: (span["start"], span["end"]))
    return spans
