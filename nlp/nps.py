"""NPS, CSAT and CES analytics over analysed rows (the output of ``Analyzer.analyze_frame``).

Every function takes a DataFrame with the Result columns ``topics`` (list of 7P names),
``topic_sentiments`` ({topic: polarity}) and ``detractor_probability``, plus, when the batch was
scored, a score column. The API and the dashboard call these same functions, so a number on a
page is the number in an export.

Conventions:
- NPS 0-10: promoters 9-10, passives 7-8, detractors 0-6; NPS = 100 x (promoters - detractors) / n.
- CSAT 1-5, stars 1-5 and CES 1-7 are "higher is better" (CES as "it was easy": 7 = strongly
  agree); top-2 box = the two highest values, bottom-2 box = the two lowest.
- Rows whose score is missing are left out of score figures; a value outside the scale is an
  error (``ScoreRangeError``), never silently dropped.
- A topic is "mentioned" when it is in ``topics``; its polarity comes from ``topic_sentiments``.
- Figures computed from ``detractor_probability`` instead of scores carry ``basis="predicted"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from nlp.errors import MissingColumnError, ScoreRangeError
from nlp.labelled import TOPICS

Scale = Literal["nps", "csat", "ces", "stars"]
#: Inclusive (lowest, highest) value of each scale.
SCALE_RANGES: Final[dict[str, tuple[int, int]]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "stars": (1, 5),
}
PROMOTER_MIN: Final = 9
PASSIVE_MIN: Final = 7
#: Default detractor cut for the 1-5 and 1-7 scales: a score at or below it counts as a detractor.
DEFAULT_LOW_CUT: Final = 2
#: Two-sided 95% normal quantile.
Z_95: Final = 1.959963984540054
POLARITIES: Final = ("positive", "negative", "neutral")

OBSERVED: Final = "observed"
PREDICTED: Final = "predicted"


# --- scores ------------------------------------------------------------------------------------


def validate_scores(values: pd.Series, scale: Scale, *, column: str = "score") -> pd.Series:
    """Scores as floats (NaN where missing); non-numbers and out-of-range values raise.

    >>> validate_scores(pd.Series(["9", "", "0"]), "nps").tolist()
    [9.0, nan, 0.0]
    """
    if scale not in SCALE_RANGES:
        raise ScoreRangeError(
            f"Unknown scale {scale!r}; valid: {', '.join(SCALE_RANGES)}", scale=scale
        )
    low, high = SCALE_RANGES[scale]
    blank = values.isna() | values.astype(str).str.strip().eq("")
    numeric = pd.to_numeric(values.where(~blank), errors="coerce").astype(float)
    bad = (~blank) & (
        numeric.isna() | (numeric < low) | (numeric > high) | (numeric != np.floor(numeric))
    )
    if bad.any():
        examples = ", ".join(f"row {index}: {values[index]!r}" for index in bad[bad].index[:5])
        raise ScoreRangeError(
            f"Column {column!r} must hold whole numbers from {low} to {high} for the {scale} "
            f"scale; {int(bad.sum())} values do not ({examples}).",
            column=column,
            scale=scale,
            valid_range=[low, high],
            rows=[str(index) for index in bad[bad].index[:20]],
        )
    return numeric


def detractor_labels(scores: pd.Series, scale: Scale, cut: int | None = None) -> pd.Series:
    """True for detractors, False for the rest, NaN-free (rows without a score are dropped).

    NPS: 0-6 (``cut`` defaults to 6); CSAT, stars and CES: ``cut`` and below (default 2).
    """
    threshold = detractor_cut(scale, cut)
    known = scores.dropna()
    return known <= threshold


def detractor_cut(scale: Scale, cut: int | None = None) -> int:
    """The highest score that still counts as a detractor on ``scale`` (validated)."""
    low, high = SCALE_RANGES[scale]
    threshold = cut if cut is not None else (PASSIVE_MIN - 1 if scale == "nps" else DEFAULT_LOW_CUT)
    if not low <= threshold < high:
        raise ScoreRangeError(
            f"The detractor cut must be from {low} to {high - 1} on the {scale} scale, "
            f"not {threshold}.",
            scale=scale,
            cut=threshold,
        )
    return threshold


def infer_scale(column: str, values: pd.Series) -> Scale:
    """The scale a score column most likely uses: by its name first, then by its value range."""
    name = column.lower()
    scales: tuple[Scale, ...] = ("nps", "csat", "ces")
    for scale in scales:
        if scale in name:
            return scale
    if "star" in name or "sao" in name:
        return "stars"
    numeric = pd.to_numeric(values, errors="coerce").dropna()
    if numeric.empty:
        raise ScoreRangeError(f"Column {column!r} holds no numeric scores.", column=column)
    if numeric.min() >= 1 and numeric.max() <= 5:
        return "csat"
    if numeric.min() >= 1 and numeric.max() <= 7:
        return "ces"
    return "nps"


def _scores(frame: pd.DataFrame, column: str, scale: Scale) -> pd.Series:
    _require(frame, column)
    return validate_scores(frame[column], scale, column=column)


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise MissingColumnError(
            f"Column {column!r} not found; available: {', '.join(map(str, frame.columns))}",
            column=column,
            available=[str(c) for c in frame.columns],
        )


# --- NPS ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NpsSummary:
    """NPS of a set of scores with its 95% confidence interval (NaN when ``n`` is 0)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def nps_summary(scores: pd.Series) -> NpsSummary:
    """NPS and a Wald 95% interval from the variance of the +1/0/-1 respondent score.

    Each respondent scores +1 (promoter), 0 (passive) or -1 (detractor); NPS is 100 x the mean.
    With shares p and d, that score's variance is (p + d) - (p - d)^2, so the standard error of
    NPS is 100 x sqrt(variance / n). The interval is clipped to [-100, 100]; it is degenerate
    when every respondent is in one category, and too narrow for very small n.

    >>> nps_summary(pd.Series([10, 9, 8, 7, 6, 0])).as_dict()["ci_high"]
    65.33
    """
    known = scores.dropna()
    n = len(known)
    promoters = int((known >= PROMOTER_MIN).sum())
    detractors = int((known < PASSIVE_MIN).sum())
    passives = n - promoters - detractors
    if n == 0:
        return NpsSummary(0, 0, 0, 0, math.nan, math.nan, math.nan)
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    margin = 100 * Z_95 * math.sqrt(max((p + d) - (p - d) ** 2, 0.0) / n)
    return NpsSummary(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=round(score, 2),
        ci_low=round(max(score - margin, -100.0), 2),
        ci_high=round(min(score + margin, 100.0), 2),
    )


def nps_table(frame: pd.DataFrame, score_column: str, by: str | None = None) -> pd.DataFrame:
    """One row of NPS figures for the whole frame, or one per value of the ``by`` column."""
    scores = _scores(frame, score_column, "nps")
    if by is None:
        return pd.DataFrame([nps_summary(scores).as_dict()], index=pd.Index(["all"], name="group"))
    _require(frame, by)
    rows = {
        key: nps_summary(scores.loc[group.index]).as_dict()
        for key, group in frame.groupby(by, sort=True, dropna=False)
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by)


# --- topics ------------------------------------------------------------------------------------


def _topic_list(value: Any) -> list[str]:
    if isinstance(value, str):  # a flattened export joins topics with ";"
        return [t for t in value.split(";") if t]
    if isinstance(value, list | tuple | np.ndarray):
        return [str(t) for t in value]
    return []


def _polarity_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def topic_mentions(frame: pd.DataFrame, polarity: str | None = None) -> pd.DataFrame:
    """Boolean columns, one per 7P topic: does the row mention it (with ``polarity``, if given)?

    >>> rows = pd.DataFrame({"topics": [["price"], []],
    ...                      "topic_sentiments": [{"price": "negative"}, {}]})
    >>> topic_mentions(rows, "negative")["price"].tolist()
    [True, False]
    """
    _require(frame, "topics")
    topics = frame["topics"].map(_topic_list)
    if polarity is not None:
        _require(frame, "topic_sentiments")
        polarities = frame["topic_sentiments"].map(_polarity_map)
    columns = {}
    for topic in TOPICS:
        mentioned = topics.map(lambda names, t=topic: t in names)
        if polarity is not None:
            same = polarities.map(lambda found, t=topic: found.get(t) == polarity)
            mentioned = mentioned & same
        columns[topic] = mentioned.astype(bool)
    return pd.DataFrame(columns, index=frame.index)


def nps_by_topic(frame: pd.DataFrame, score_column: str) -> pd.DataFrame:
    """NPS figures of the rows that mention each topic (all seven, NaN where none do)."""
    scores = _scores(frame, score_column, "nps")
    mentions = topic_mentions(frame)
    rows = {topic: nps_summary(scores[mentions[topic]]).as_dict() for topic in TOPICS}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("topic")


def driver_impact(frame: pd.DataFrame, score_column: str) -> pd.DataFrame:
    """How many NPS points each topic moves the total, overall and by mention polarity.

    ``impact`` = NPS of all rows - NPS of the rows that do not mention the topic: negative when
    the topic's mentions pull the score down. ``impact_positive`` and ``impact_negative`` leave
    out only the positive (or negative) mentions.
    """
    scores = _scores(frame, score_column, "nps")
    overall = nps_summary(scores).nps
    masks = {
        "": topic_mentions(frame),
        "_positive": topic_mentions(frame, "positive"),
        "_negative": topic_mentions(frame, "negative"),
    }
    rows = []
    for topic in TOPICS:
        row: dict[str, Any] = {"topic": topic, "nps_all": overall}
        for suffix, mentions in masks.items():
            mentioned = mentions[topic] & scores.notna()
            without = nps_summary(scores[~mentions[topic]]).nps
            row[f"mentions{suffix}"] = int(mentioned.sum())
            row[f"nps_without{suffix}"] = without
            row[f"impact{suffix}"] = round(overall - without, 2)
        rows.append(row)
    return pd.DataFrame(rows).set_index("topic")


def key_driver_row(
    topic: str,
    polarity: str,
    mentioned: np.ndarray,
    outcome: np.ndarray,
    scored: np.ndarray,
    basis: str,
) -> dict[str, Any] | None:
    """One key-driver row from boolean ``mentioned`` and float ``outcome`` arrays (``scored``:
    where outcome is known); None when no scored row mentions the topic with this polarity.
    The batch service calls it on its rollup arrays, so both report the same numbers."""
    present = mentioned & scored
    absent = ~mentioned & scored
    count = int(present.sum())
    if count == 0:
        return None
    rate_present = float(outcome[present].mean())
    rate_absent = float(outcome[absent].mean()) if absent.any() else math.nan
    lift = rate_present / rate_absent if rate_absent > 0 else math.nan
    return {
        "topic": topic,
        "polarity": polarity,
        "mentions": count,
        "share": round(count / int(scored.sum()), 4),
        "detractor_rate_present": round(rate_present, 4),
        "detractor_rate_absent": round(rate_absent, 4),
        "lift": round(lift, 4),
        "basis": basis,
    }


def _key_driver_rows(outcome: pd.Series, frame: pd.DataFrame, basis: str) -> list[dict[str, Any]]:
    """``outcome``: 1/0 detractor flags (observed) or probabilities (predicted) per row."""
    rows = []
    values = outcome.to_numpy(dtype=float)
    scored = ~np.isnan(values)
    for polarity in POLARITIES:
        mentions = topic_mentions(frame, polarity)
        for topic in TOPICS:
            mentioned = mentions[topic].to_numpy(dtype=bool)
            row = key_driver_row(topic, polarity, mentioned, values, scored, basis)
            if row is not None:
                rows.append(row)
    return rows


KEY_DRIVER_COLUMNS: Final = (
    "topic",
    "polarity",
    "mentions",
    "share",
    "detractor_rate_present",
    "detractor_rate_absent",
    "lift",
    "basis",
)


def key_drivers(
    frame: pd.DataFrame,
    score_column: str | None = None,
    *,
    scale: Scale = "nps",
    cut: int | None = None,
) -> pd.DataFrame:
    """For each topic-polarity that occurs: share of comments, detractor rate with and without it,
    and lift (rate with / rate without), sorted by lift.

    With a score column the rates are observed (``detractor_labels`` of the scale); without one
    they are the mean ``detractor_probability`` and the table says ``basis="predicted"``.
    """
    if score_column is not None:
        scores = _scores(frame, score_column, scale)
        outcome = detractor_labels(scores, scale, cut).astype(float).reindex(frame.index)
        basis = OBSERVED
    else:
        outcome = _predicted(frame)
        basis = PREDICTED
    rows = _key_driver_rows(outcome, frame, basis)
    table = pd.DataFrame(rows, columns=list(KEY_DRIVER_COLUMNS))
    return table.sort_values(["lift", "mentions"], ascending=False, ignore_index=True)


def _predicted(frame: pd.DataFrame) -> pd.Series:
    _require(frame, "detractor_probability")
    probabilities = pd.to_numeric(frame["detractor_probability"], errors="coerce").astype(float)
    if ((probabilities < 0) | (probabilities > 1)).any():
        raise ScoreRangeError(
            "detractor_probability must lie between 0 and 1.", column="detractor_probability"
        )
    return probabilities


def predicted_detractor_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Expected detractor share from ``detractor_probability`` (no promoter estimate exists)."""
    probabilities = _predicted(frame).dropna()
    return {
        "n": len(probabilities),
        "expected_detractors": round(float(probabilities.sum()), 2),
        "detractor_rate": round(float(probabilities.mean()), 4) if len(probabilities) else math.nan,
        "basis": PREDICTED,
    }


def predicted_driver_impact(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentage points of predicted detractor rate each topic adds to the total.

    The counterpart of ``driver_impact`` for unscored batches: ``impact`` = predicted detractor
    rate of all rows - that of the rows not mentioning the topic (positive = the topic's
    mentions raise the detractor rate), in points (x 100).
    """
    probabilities = _predicted(frame)
    overall = float(probabilities.mean())
    masks = {
        "": topic_mentions(frame),
        "_positive": topic_mentions(frame, "positive"),
        "_negative": topic_mentions(frame, "negative"),
    }
    rows = []
    for topic in TOPICS:
        row: dict[str, Any] = {"topic": topic, "detractor_rate_all": round(overall, 4)}
        for suffix, mentions in masks.items():
            without = probabilities[~mentions[topic]].mean()
            row[f"mentions{suffix}"] = int(mentions[topic].sum())
            row[f"impact{suffix}"] = round(100 * (overall - float(without)), 2)
        row["basis"] = PREDICTED
        rows.append(row)
    return pd.DataFrame(rows).set_index("topic")


# --- CSAT / CES --------------------------------------------------------------------------------


def box_summary(scores: pd.Series, scale: Scale) -> dict[str, Any]:
    """Mean, top-2 box and bottom-2 box shares of scores on a 1-5 or 1-7 scale.

    >>> box_summary(pd.Series([5, 4, 3, 1]), "csat")
    {'n': 4, 'mean': 3.25, 'top2_share': 0.5, 'bottom2_share': 0.25}
    """
    low, high = SCALE_RANGES[scale]
    known = scores.dropna()
    if known.empty:
        return {"n": 0, "mean": math.nan, "top2_share": math.nan, "bottom2_share": math.nan}
    return {
        "n": len(known),
        "mean": round(float(known.mean()), 4),
        "top2_share": round(float((known >= high - 1).mean()), 4),
        "bottom2_share": round(float((known <= low + 1).mean()), 4),
    }


def box_scores_by_topic(frame: pd.DataFrame, score_column: str, scale: Scale) -> pd.DataFrame:
    """``box_summary`` for all rows (index ``all``) and for the rows mentioning each topic."""
    if scale == "nps":
        raise ScoreRangeError("Box scores are for CSAT, CES and stars; use nps_by_topic for NPS.")
    scores = _scores(frame, score_column, scale)
    mentions = topic_mentions(frame)
    rows = {"all": box_summary(scores, scale)}
    rows |= {topic: box_summary(scores[mentions[topic]], scale) for topic in TOPICS}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("topic")


# --- grouping ----------------------------------------------------------------------------------


def by_group(
    frame: pd.DataFrame,
    by: str,
    table: Callable[..., pd.DataFrame],
    *args: Any,
    **kwargs: Any,
) -> pd.DataFrame:
    """Any of the table functions above, once per value of a metadata column.

    ``by_group(rows, "branch", nps_by_topic, "nps")`` returns the per-topic table of each
    branch, with the branch as the first index level.
    """
    _require(frame, by)
    parts = {
        key: table(group, *args, **kwargs)
        for key, group in frame.groupby(by, sort=True, dropna=False)
    }
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, names=[by])


def month_of(frame: pd.DataFrame, date_column: str) -> pd.Series:
    """``YYYY-MM`` per row (missing or unparseable dates become NaN), for ``by_group``."""
    _require(frame, date_column)
    dates = pd.to_datetime(frame[date_column], errors="coerce", format="mixed")
    return dates.dt.strftime("%Y-%m")
