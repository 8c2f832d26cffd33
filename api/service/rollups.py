"""The rollup frame of a finished batch and the breakdowns computed from it.

When a batch finishes, its rows are condensed into one compact frame (Parquet under
``settings.rollups_dir``): per row the overall sentiment, one bool and one polarity per 7P topic,
the detractor probability, the score, the date (with month and ISO week) and every metadata
column as a categorical. The unfiltered breakdown is stored on the batch; filtered breakdowns are
computed from the cached frame with vectorised pandas, so a 200,000-row batch answers in well
under a second.

``load_rollup(settings, batch_id)`` and ``breakdown(frame, filters)`` are plain functions: the
API and the dashboard call the same two, so a number on a page is the number the API serves.
NPS figures follow ``nlp.nps`` (``nps_summary`` for NPS and its interval, ``nps_table`` for
trends, ``box_summary`` for CSAT/CES/stars, ``detractor_labels`` for the cut); driver impact and
key drivers use ``nlp.nps``'s definitions on the frame's bool columns instead of re-deriving
mentions from topic lists per row (``tests/service/test_batches_units.py`` checks both give the
same numbers).
"""

from __future__ import annotations

import math
import shutil
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.service.errors import ApiError
from api.service.folding import fold
from api.service.models import Batch, BatchRow
from api.service.settings import Settings
from nlp import nps
from nlp.errors import MissingColumnError
from nlp.labelled import TOPICS
from nlp.result import FLAG_EMPTY_TEXT, SENTIMENTS

POLARITIES: Final = nps.POLARITIES
TOPIC_PREFIX: Final = "topic__"
POLARITY_PREFIX: Final = "polarity__"
META_PREFIX: Final = "meta__"
#: Distinct values listed per metadata column by ``column_values`` (filter UIs need few).
MAX_COLUMN_VALUES: Final = 200
#: Rollups kept in memory per process; one 200,000-row frame is a few MB.
CACHE_SIZE: Final = 16
_READ_BLOCK: Final = 20_000


def topic_column(topic: str) -> str:
    return f"{TOPIC_PREFIX}{topic}"


def polarity_column(topic: str) -> str:
    return f"{POLARITY_PREFIX}{topic}"


def meta_column(name: str) -> str:
    return f"{META_PREFIX}{name}"


def rollup_path(settings: Settings, batch_id: str) -> Path:
    return settings.rollups_dir / f"{batch_id}.parquet"


# --- building ----------------------------------------------------------------------------------


def texts_path(settings: Settings, batch_id: str) -> Path:
    """Folded comment texts (row_no, folded) of a finished batch, for the ``q`` search."""
    return settings.rollups_dir / f"{batch_id}.texts.parquet"


def parts_dir(settings: Settings, batch_id: str) -> Path:
    """Per-chunk parts written while a batch runs, assembled when it finishes."""
    return settings.rollups_dir / f"{batch_id}.parts"


def part_frame(
    records: Sequence[Mapping[str, Any]], metadata_columns: Sequence[str]
) -> pd.DataFrame:
    """Stored rows (the ``batch_rows`` records of a chunk) condensed to plain columns."""
    size = len(records)
    results = [record["result"] or {} for record in records]
    polarities = [result.get("topic_sentiments") or {} for result in results]
    metas = [record["meta"] or {} for record in records]
    columns: dict[str, Any] = {
        "row_no": np.fromiter((r["row_no"] for r in records), dtype=np.int64, count=size),
        "sentiment": pd.Series([r["sentiment"] for r in records], dtype="object"),
        "detractor_probability": np.array(
            [
                np.nan if r["detractor_probability"] is None else r["detractor_probability"]
                for r in records
            ],
            dtype=np.float64,
        ),
        "score": np.array(
            [np.nan if r["score"] is None else r["score"] for r in records], dtype=np.float64
        ),
        "date": pd.Series([r["date"] for r in records], dtype="object"),
        "empty_text": np.fromiter(
            (FLAG_EMPTY_TEXT in (result.get("flags") or ()) for result in results),
            dtype=bool,
            count=size,
        ),
        "has_error": np.fromiter(
            (r["error_code"] is not None for r in records), dtype=bool, count=size
        ),
        "folded": pd.Series([fold(r["text"]) if r["text"] else "" for r in records], dtype="str"),
    }
    for topic in TOPICS:
        columns[polarity_column(topic)] = pd.Series(
            [found.get(topic) for found in polarities], dtype="object"
        )
    for name in metadata_columns:
        columns[meta_column(name)] = pd.Series([str(m.get(name, "")) for m in metas], dtype="str")
    return pd.DataFrame(columns)


def write_part(settings: Settings, batch_id: str, first_row: int, part: pd.DataFrame) -> None:
    folder = parts_dir(settings, batch_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{first_row:010d}.parquet"
    partial = path.with_name(path.name + ".partial")
    part.to_parquet(partial, index=False)
    partial.replace(path)


def _stored_parts(
    session: Session, batch_id: str, missing: np.ndarray, metadata_columns: Sequence[str]
) -> list[pd.DataFrame]:
    """Parts rebuilt from the database for rows whose part file is missing (a crash between
    a chunk's commit and its part, or a batch processed before parts existed)."""
    breaks = np.flatnonzero(np.diff(missing) != 1)
    starts = np.concatenate(([missing[0]], missing[breaks + 1]))
    ends = np.concatenate((missing[breaks], [missing[-1]]))
    parts = []
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        found = session.execute(
            select(
                BatchRow.row_no,
                BatchRow.text,
                BatchRow.sentiment,
                BatchRow.detractor_probability,
                BatchRow.score,
                BatchRow.date,
                BatchRow.meta,
                BatchRow.result["topic_sentiments"],
                BatchRow.result["flags"],
                BatchRow.error_code,
            )
            .where(BatchRow.batch_id == batch_id, BatchRow.row_no.between(first, last))
            .order_by(BatchRow.row_no)
            .execution_options(yield_per=_READ_BLOCK)
        ).all()
        records = [
            {
                "row_no": row[0],
                "text": row[1],
                "sentiment": row[2],
                "detractor_probability": row[3],
                "score": row[4],
                "date": row[5],
                "meta": row[6],
                "result": {"topic_sentiments": row[7], "flags": row[8]},
                "error_code": row[9],
            }
            for row in found
        ]
        parts.append(part_frame(records, metadata_columns))
    return parts


def finish_rollup(settings: Settings, session: Session, batch: Batch) -> pd.DataFrame:
    """Assemble a finished batch's parts (and any rows without one, from the database) into
    its rollup frame and its search texts, write both and remove the parts."""
    metadata = list(batch.metadata_columns or [])
    folder = parts_dir(settings, batch.id)
    parts = [pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))]
    have = np.concatenate([p["row_no"].to_numpy() for p in parts]) if parts else np.array([])
    missing = np.setdiff1d(np.arange(1, batch.rows_done + 1), have)
    if missing.size:
        parts += _stored_parts(session, batch.id, missing, metadata)
    combined = pd.concat(parts, ignore_index=True) if parts else part_frame([], metadata)
    combined = (
        combined.drop_duplicates("row_no", keep="last").sort_values("row_no").reset_index(drop=True)
    )
    frame = rollup_frame(
        combined,
        metadata_columns=metadata,
        score_column=batch.score_column,
        score_scale=batch.score_scale,
        date_column=batch.date_column,
    )
    texts = combined[["row_no", "folded"]]
    _write_atomically(texts, texts_path(settings, batch.id))
    write_rollup(settings, batch.id, frame)
    shutil.rmtree(folder, ignore_errors=True)
    return frame


def rollup_frame(
    parts: pd.DataFrame,
    *,
    metadata_columns: Sequence[str],
    score_column: str | None,
    score_scale: str | None,
    date_column: str | None,
) -> pd.DataFrame:
    """The rollup frame from assembled parts (``part_frame`` columns, in row order)."""
    columns: dict[str, Any] = {
        "row_no": parts["row_no"].to_numpy(dtype=np.int64),
        "sentiment": pd.Categorical(parts["sentiment"], categories=list(SENTIMENTS)),
    }
    for topic in TOPICS:
        polarity = pd.Categorical(parts[polarity_column(topic)], categories=list(POLARITIES))
        columns[polarity_column(topic)] = polarity
        columns[topic_column(topic)] = parts[polarity_column(topic)].notna().to_numpy()
    columns["detractor_probability"] = parts["detractor_probability"].to_numpy(np.float64)
    columns["score"] = parts["score"].to_numpy(np.float64)
    dates = parts["date"].astype("str")
    parsed = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce")
    columns["date"] = parsed
    columns["month"] = pd.Categorical(dates.str.slice(0, 7).where(parsed.notna()))
    calendar = parsed.dt.isocalendar()
    week = calendar["year"].astype("str") + "-W" + calendar["week"].astype("str").str.zfill(2)
    columns["week"] = pd.Categorical(week.where(parsed.notna()))
    columns["empty_text"] = parts["empty_text"].to_numpy(dtype=bool)
    columns["has_error"] = parts["has_error"].to_numpy(dtype=bool)
    for name in metadata_columns:
        columns[meta_column(name)] = pd.Categorical(parts[meta_column(name)].astype("str"))
    frame = pd.DataFrame(columns)
    frame.attrs = {
        "metadata_columns": list(metadata_columns),
        "score_column": score_column,
        "score_scale": score_scale,
        "date_column": date_column,
    }
    return frame


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    # A reader never sees half a file: write aside, then rename over.
    partial = path.with_name(path.name + ".partial")
    frame.to_parquet(partial, index=False)
    partial.replace(path)


def write_rollup(settings: Settings, batch_id: str, frame: pd.DataFrame) -> Path:
    path = rollup_path(settings, batch_id)
    _write_atomically(frame, path)
    return path


def load_rollup(settings: Settings, batch_id: str) -> pd.DataFrame:
    """The rollup frame of a finished batch, read once per process and then served from memory.

    Raises ``FileNotFoundError`` when the batch has no rollup (not finished, or deleted).
    """
    path = rollup_path(settings, batch_id)
    stat = path.stat()
    return _read_rollup(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=CACHE_SIZE)
def _read_rollup(path: str, _mtime_ns: int, _size: int) -> pd.DataFrame:
    # mtime and size are part of the cache key: a rewritten rollup is read again.
    return pd.read_parquet(path)


def forget_rollup(settings: Settings, batch_id: str) -> None:
    """Delete a batch's rollup, texts and parts; cached frames age out of the LRU cache."""
    rollup_path(settings, batch_id).unlink(missing_ok=True)
    texts_path(settings, batch_id).unlink(missing_ok=True)
    shutil.rmtree(parts_dir(settings, batch_id), ignore_errors=True)


# --- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which rows a breakdown, a comment page or an export covers.

    ``metadata`` maps a metadata column to the values kept (several values of one column: any
    of them; several columns: all of them). Dates are inclusive. ``topic``, ``sentiment`` and
    ``polarity`` are the drill-down filters (polarity alone: any topic with that polarity).
    """

    metadata: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None
    sentiment: str | None = None
    polarity: str | None = None

    @classmethod
    def from_query(
        cls,
        raw_filters: Iterable[str],
        known_columns: Sequence[str],
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        topic: str | None = None,
        sentiment: str | None = None,
        polarity: str | None = None,
    ) -> Filters:
        """Parse ``filter=COLUMN:VALUE`` strings; the longest known column name wins, so a
        column whose name holds a colon still works."""
        metadata: dict[str, list[str]] = {}
        by_length = sorted(known_columns, key=len, reverse=True)
        for raw in raw_filters:
            column = next((c for c in by_length if raw.startswith(f"{c}:")), None)
            if column is None:
                name = raw.split(":", 1)[0] if ":" in raw else raw
                raise MissingColumnError(
                    f"Filter {raw!r} does not name a metadata column as COLUMN:VALUE "
                    f"(column {name!r}); available: {', '.join(known_columns) or 'none'}",
                    column=name,
                    available=list(known_columns),
                )
            metadata.setdefault(column, []).append(raw[len(column) + 1 :])
        return cls(
            metadata={column: tuple(values) for column, values in metadata.items()},
            date_from=date_from,
            date_to=date_to,
            topic=topic or None,
            sentiment=sentiment or None,
            polarity=polarity or None,
        )

    def is_empty(self) -> bool:
        return not (
            self.metadata
            or self.date_from
            or self.date_to
            or self.topic
            or self.sentiment
            or self.polarity
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "metadata": {column: list(values) for column, values in self.metadata.items()},
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "topic": self.topic,
            "sentiment": self.sentiment,
            "polarity": self.polarity,
        }


def _choice(value: str | None, valid: Sequence[str], name: str) -> None:
    if value is not None and value not in valid:
        raise ApiError(
            "E422_validation_failed",
            f"{name}={value!r} is not one of {', '.join(valid)}.",
            errors=[{"loc": ["query", name], "msg": f"must be one of {list(valid)}"}],
        )


def filter_mask(frame: pd.DataFrame, filters: Filters | None) -> np.ndarray:
    """Bool array over ``frame``'s rows kept by ``filters``."""
    keep = np.ones(len(frame), dtype=bool)
    if filters is None:
        return keep
    available = metadata_columns(frame)
    for column, values in filters.metadata.items():
        if column not in available:
            raise MissingColumnError(
                f"No metadata column {column!r}; available: {', '.join(available) or 'none'}",
                column=column,
                available=available,
            )
        keep &= frame[meta_column(column)].isin(values).to_numpy()
    if filters.date_from or filters.date_to:
        if not frame.attrs.get("date_column"):
            raise ApiError(
                "E422_validation_failed",
                "date_from/date_to need a batch uploaded with a date_column.",
                errors=[{"loc": ["query", "date_from"], "msg": "the batch has no date column"}],
            )
        dates = frame["date"]
        if filters.date_from:
            keep &= (dates >= pd.Timestamp(filters.date_from)).to_numpy()
        if filters.date_to:
            keep &= (dates <= pd.Timestamp(filters.date_to)).to_numpy()
    _choice(filters.topic, TOPICS, "topic")
    _choice(filters.sentiment, SENTIMENTS, "sentiment")
    _choice(filters.polarity, POLARITIES, "polarity")
    if filters.sentiment:
        keep &= (frame["sentiment"] == filters.sentiment).to_numpy()
    if filters.topic and filters.polarity:
        keep &= (frame[polarity_column(filters.topic)] == filters.polarity).to_numpy()
    elif filters.topic:
        keep &= frame[topic_column(filters.topic)].to_numpy()
    elif filters.polarity:
        any_topic = np.zeros(len(frame), dtype=bool)
        for topic in TOPICS:
            any_topic |= (frame[polarity_column(topic)] == filters.polarity).to_numpy()
        keep &= any_topic
    return keep


def metadata_columns(frame: pd.DataFrame) -> list[str]:
    return list(frame.attrs.get("metadata_columns") or [])


# --- breakdown ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakdownRows:
    """The rollup columns a breakdown reads, as numpy arrays (codes index the label tuples:
    ``SENTIMENTS``, ``POLARITIES``, the period labels; -1 = none)."""

    sentiment: np.ndarray
    mentioned: dict[str, np.ndarray]
    polarity: dict[str, np.ndarray]
    score: np.ndarray
    probability: np.ndarray
    empty_text: np.ndarray
    has_error: np.ndarray
    periods: dict[str, tuple[np.ndarray, list[str]]]

    @property
    def size(self) -> int:
        return len(self.sentiment)

    def take(self, keep: np.ndarray) -> BreakdownRows:
        return BreakdownRows(
            sentiment=self.sentiment[keep],
            mentioned={t: m[keep] for t, m in self.mentioned.items()},
            polarity={t: p[keep] for t, p in self.polarity.items()},
            score=self.score[keep],
            probability=self.probability[keep],
            empty_text=self.empty_text[keep],
            has_error=self.has_error[keep],
            periods={k: (codes[keep], labels) for k, (codes, labels) in self.periods.items()},
        )

    def with_polarity(self, topic: str, polarity: str | None) -> np.ndarray:
        """Rows mentioning ``topic`` (with ``polarity``, when given)."""
        if polarity is None:
            return self.mentioned[topic]
        mask: np.ndarray = self.polarity[topic] == POLARITIES.index(polarity)
        return mask


def _codes(values: pd.Series, labels: Sequence[str]) -> np.ndarray:
    """A categorical's codes re-indexed into ``labels`` (-1 for missing or unknown)."""
    categories = [str(c) for c in values.cat.categories]
    mapping = np.array([labels.index(c) if c in labels else -1 for c in categories] + [-1])
    codes = values.cat.codes.to_numpy().astype(np.int64)
    result: np.ndarray = mapping[np.where(codes >= 0, codes, len(categories))]
    return result


_rows_cache: dict[int, tuple[weakref.ref[pd.DataFrame], BreakdownRows]] = {}
_rows_lock = threading.Lock()


def breakdown_rows(frame: pd.DataFrame) -> BreakdownRows:
    """The arrays of a rollup frame, computed once per (cached) frame."""
    key = id(frame)
    with _rows_lock:
        cached = _rows_cache.get(key)
        if cached is not None and cached[0]() is frame:
            return cached[1]
    rows = BreakdownRows(
        sentiment=_codes(frame["sentiment"], SENTIMENTS),
        mentioned={t: frame[topic_column(t)].to_numpy(dtype=bool) for t in TOPICS},
        polarity={t: _codes(frame[polarity_column(t)], POLARITIES) for t in TOPICS},
        score=frame["score"].to_numpy(dtype=np.float64),
        probability=frame["detractor_probability"].to_numpy(dtype=np.float64),
        empty_text=frame["empty_text"].to_numpy(dtype=bool),
        has_error=frame["has_error"].to_numpy(dtype=bool),
        periods={
            period: (
                frame[period].cat.codes.to_numpy().astype(np.int64),
                [str(c) for c in frame[period].cat.categories],
            )
            for period in ("month", "week")
        },
    )
    with _rows_lock:
        for stale in [k for k, (ref, _) in _rows_cache.items() if ref() is None]:
            del _rows_cache[stale]
        _rows_cache[key] = (weakref.ref(frame), rows)
    return rows


def breakdown(frame: pd.DataFrame, filters: Filters | None = None) -> dict[str, Any]:
    """Everything a batch overview shows, for the rows ``filters`` keep (JSON-able).

    Sections: ``sentiment`` counts; ``topics`` (per P: mentions, share, overall-sentiment
    counts and topic-polarity counts); ``score`` (NPS with its 95% interval, per-topic NPS,
    driver impact and key drivers; box scores for CSAT/CES/stars) when the batch has a score
    column, else ``predicted`` (expected detractor share, predicted driver impact, key drivers
    from ``detractor_probability``); ``trends`` by month and ISO week when it has a date column.
    """
    keep = filter_mask(frame, filters)
    every = breakdown_rows(frame)
    rows = every if keep.all() else every.take(keep)
    attrs = frame.attrs
    result: dict[str, Any] = {
        "rows": rows.size,
        "rows_total": len(frame),
        "filters": (filters or Filters()).as_dict(),
        "empty_text": int(rows.empty_text.sum()),
        "rows_with_errors": int(rows.has_error.sum()),
        "sentiment": _label_counts(rows.sentiment, SENTIMENTS),
        "topics": _topics(rows),
        "score": None,
        "predicted": None,
        "trends": None,
    }
    scale = attrs.get("score_scale")
    if attrs.get("score_column") and scale:
        result["score"] = _score_section(rows, attrs["score_column"], scale)
    else:
        result["predicted"] = _predicted_section(rows)
    if attrs.get("date_column"):
        result["trends"] = {
            "column": attrs["date_column"],
            "month": _trend(rows, "month", scale),
            "week": _trend(rows, "week", scale),
        }
    cleaned: dict[str, Any] = json_clean(result)
    return cleaned


def _label_counts(codes: np.ndarray, labels: Sequence[str]) -> dict[str, int]:
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return {label: int(counts[i]) for i, label in enumerate(labels)}


def _topics(rows: BreakdownRows) -> list[dict[str, Any]]:
    total = rows.size
    table = []
    for topic in TOPICS:
        mentioned = rows.mentioned[topic]
        count = int(mentioned.sum())
        table.append(
            {
                "topic": topic,
                "mentions": count,
                "share": round(count / total, 4) if total else None,
                "sentiment": _label_counts(rows.sentiment[mentioned], SENTIMENTS),
                "polarity": _label_counts(rows.polarity[topic], POLARITIES),
            }
        )
    return table


def _series(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype=np.float64, copy=False)


def _score_section(rows: BreakdownRows, column: str, scale: str) -> dict[str, Any]:
    scores = rows.score
    section: dict[str, Any] = {
        "column": column,
        "scale": scale,
        "rows_scored": int((~np.isnan(scores)).sum()),
    }
    if scale == "nps":
        section["summary"] = nps.nps_summary(_series(scores)).as_dict()
        section["by_topic"] = [
            {"topic": t, **nps.nps_summary(_series(scores[rows.mentioned[t]])).as_dict()}
            for t in TOPICS
        ]
        section["driver_impact"] = driver_impact(rows)
    else:
        section["summary"] = nps.box_summary(_series(scores), scale)  # type: ignore[arg-type]
        section["by_topic"] = [
            {"topic": t, **nps.box_summary(_series(scores[rows.mentioned[t]]), scale)}  # type: ignore[arg-type]
            for t in TOPICS
        ]
        section["driver_impact"] = None
    labels = nps.detractor_labels(_series(scores), scale)  # type: ignore[arg-type]
    outcome = np.full(rows.size, np.nan)
    outcome[labels.index.to_numpy()] = labels.to_numpy(dtype=np.float64)
    section["detractor_cut"] = nps.detractor_cut(scale)  # type: ignore[arg-type]
    section["key_drivers"] = key_drivers(rows, outcome, nps.OBSERVED)
    return section


def _predicted_section(rows: BreakdownRows) -> dict[str, Any]:
    return {
        "summary": nps.predicted_detractor_summary(
            pd.DataFrame({"detractor_probability": rows.probability})
        ),
        "driver_impact": predicted_driver_impact(rows),
        "key_drivers": key_drivers(rows, rows.probability, nps.PREDICTED),
    }


_IMPACT_MASKS: Final = (("", None), ("_positive", "positive"), ("_negative", "negative"))


def driver_impact(rows: BreakdownRows) -> list[dict[str, Any]]:
    """``nlp.nps.driver_impact`` on the rollup's arrays (NPS scale)."""
    scores = rows.score
    overall = nps.nps_summary(_series(scores)).nps
    known = ~np.isnan(scores)
    table = []
    for topic in TOPICS:
        row: dict[str, Any] = {"topic": topic, "nps_all": overall}
        for suffix, polarity in _IMPACT_MASKS:
            mentioned = rows.with_polarity(topic, polarity)
            without = nps.nps_summary(_series(scores[~mentioned])).nps
            row[f"mentions{suffix}"] = int((mentioned & known).sum())
            row[f"nps_without{suffix}"] = without
            row[f"impact{suffix}"] = round(overall - without, 2)
        table.append(row)
    return table


def _mean(values: np.ndarray) -> float:
    known = values[~np.isnan(values)]
    return float(known.mean()) if len(known) else math.nan


def predicted_driver_impact(rows: BreakdownRows) -> list[dict[str, Any]]:
    """``nlp.nps.predicted_driver_impact`` on the rollup's arrays."""
    probabilities = rows.probability
    overall = _mean(probabilities)
    table = []
    for topic in TOPICS:
        row: dict[str, Any] = {"topic": topic, "detractor_rate_all": round(overall, 4)}
        for suffix, polarity in _IMPACT_MASKS:
            mentioned = rows.with_polarity(topic, polarity)
            row[f"mentions{suffix}"] = int(mentioned.sum())
            row[f"impact{suffix}"] = round(100 * (overall - _mean(probabilities[~mentioned])), 2)
        row["basis"] = nps.PREDICTED
        table.append(row)
    return table


def key_drivers(rows: BreakdownRows, outcome: np.ndarray, basis: str) -> list[dict[str, Any]]:
    """``nlp.nps.key_drivers`` on the rollup's arrays.

    ``outcome`` is 1/0 per scored row (observed) or the detractor probability (predicted),
    NaN where unknown.
    """
    scored = ~np.isnan(outcome)
    table = []
    for polarity in POLARITIES:
        for topic in TOPICS:
            mentioned = rows.with_polarity(topic, polarity)
            row = nps.key_driver_row(topic, polarity, mentioned, outcome, scored, basis)
            if row is not None:
                table.append(row)
    ordered = pd.DataFrame(table, columns=list(nps.KEY_DRIVER_COLUMNS)).sort_values(
        ["lift", "mentions"], ascending=False, ignore_index=True
    )
    return [{str(k): v for k, v in record.items()} for record in ordered.to_dict(orient="records")]


def _trend(rows: BreakdownRows, period: str, scale: str | None) -> list[dict[str, Any]]:
    """Per month or ISO week (in order): rows, sentiment counts, mentions and negative
    mentions per topic, mean detractor probability, and NPS (``nlp.nps.nps_summary``) on the
    NPS scale; grouped with bincount on the period codes."""
    all_codes, labels = rows.periods[period]
    dated = all_codes >= 0
    if not dated.any():
        return []
    codes = all_codes[dated]
    size = len(labels)
    counts = np.bincount(codes, minlength=size)

    def per_period(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights[dated].astype(np.float64), minlength=size)

    sentiments = {s: per_period(rows.sentiment == i) for i, s in enumerate(SENTIMENTS)}
    mentions = {t: per_period(rows.mentioned[t]) for t in TOPICS}
    negative = {t: per_period(rows.with_polarity(t, "negative")) for t in TOPICS}
    known = ~np.isnan(rows.probability)
    probability_sum = per_period(np.where(known, rows.probability, 0.0))
    probability_n = per_period(known)
    scores_by_period: list[np.ndarray] = []
    if scale == "nps":
        order = np.argsort(codes, kind="stable")
        scores_by_period = np.split(rows.score[dated][order], np.cumsum(counts)[:-1])
    table = []
    for index, label in enumerate(labels):
        if counts[index] == 0:
            continue
        mean = probability_sum[index] / probability_n[index] if probability_n[index] else None
        table.append(
            {
                "period": label,
                "rows": int(counts[index]),
                "sentiment": {s: int(sentiments[s][index]) for s in SENTIMENTS},
                "topics": {
                    t: {"mentions": int(mentions[t][index]), "negative": int(negative[t][index])}
                    for t in TOPICS
                },
                "detractor_probability_mean": None if mean is None else round(mean, 4),
                "nps": nps.nps_summary(_series(scores_by_period[index])).as_dict()
                if scores_by_period
                else None,
            }
        )
    return table


# --- columns -----------------------------------------------------------------------------------


def column_values(frame: pd.DataFrame, limit: int = MAX_COLUMN_VALUES) -> dict[str, Any]:
    """Metadata columns with their most frequent values (capped), and the date range."""
    columns = []
    for name in metadata_columns(frame):
        column = frame[meta_column(name)]
        categories = column.cat.categories
        counts = np.bincount(column.cat.codes.to_numpy() + 1, minlength=len(categories) + 1)[1:]
        present = np.flatnonzero(counts)
        # Most rows first; ties keep the categories' sorted order, so every call agrees.
        order = present[np.argsort(-counts[present], kind="stable")][:limit]
        columns.append(
            {
                "name": name,
                "distinct": len(present),
                "values": [{"value": str(categories[i]), "rows": int(counts[i])} for i in order],
                "truncated": len(present) > limit,
            }
        )
    dates = frame["date"].dropna()
    values: dict[str, Any] = json_clean(
        {
            "metadata": columns,
            "score_column": frame.attrs.get("score_column"),
            "score_scale": frame.attrs.get("score_scale"),
            "date_column": frame.attrs.get("date_column"),
            "date_min": dates.min().date().isoformat() if len(dates) else None,
            "date_max": dates.max().date().isoformat() if len(dates) else None,
        }
    )
    return values


def json_clean(value: Any) -> Any:
    """NaN/inf -> None and numpy scalars -> Python, recursively (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
