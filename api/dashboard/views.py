"""View models: the API's JSON (breakdown, comments, batch) shaped for templates and charts.

Nothing here computes a figure: every number comes from the breakdown or comments JSON the API
serves (``api.dashboard.data``); this module only picks, orders, labels and formats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final
from urllib.parse import urlencode

from markupsafe import Markup

from api.dashboard.highlight import highlight
from api.dashboard.i18n import Translator
from api.service.errors import ApiError, pipeline_status
from api.service.models import Batch
from api.service.rollups import Filters
from nlp.errors import VicxError
from nlp.result import SENTIMENTS

COMMENTS_PAGE_SIZE: Final = 20
#: A metadata column with more distinct values than this (an id, a free-text field) is not
#: offered as a filter: a drop-down of thousands of values helps nobody.
MAX_FILTER_VALUES: Final = 50
#: Fewer months than this and the trend is drawn by ISO week instead.
MIN_TREND_MONTHS: Final = 3
FINISHED: Final = ("done", "failed")


def package_version() -> str:
    try:
        return version("vicx")
    except PackageNotFoundError:
        return "dev"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}".replace("-", "−")


def _percent(share: float | None, digits: int = 0) -> str:
    if share is None:
        return "–"
    return f"{100 * share:.{digits}f}%"


# --- errors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorView:
    status: int
    code: str
    message: str


def error_view(exc: ApiError | VicxError) -> ErrorView:
    status = exc.status if isinstance(exc, ApiError) else pipeline_status(exc)
    return ErrorView(status, exc.code, exc.message)


# --- batches -------------------------------------------------------------------------------


@dataclass
class BatchView:
    id: str
    name: str
    filename: str
    status: str
    rows_total: int | None
    rows_done: int
    rows_failed: int
    created_iso: str
    created_label: str
    error_code: str | None
    error_message: str | None
    percent: int | None
    progress_label: str
    rows_label: str
    summary_line: str
    sentiment: list[tuple[str, int, float]] = field(default_factory=list)
    sentiment_total: int = 0
    sentiment_title: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def _created_label(created: datetime, lang: str) -> str:
    local = created.astimezone()
    return local.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M")


def batch_view(batch: Batch, t: Translator) -> BatchView:
    total = batch.rows_total
    done = batch.rows_done or 0
    if batch.status == "done":
        percent: int | None = 100
    elif total:
        percent = min(100, round(100 * done / total))
    else:
        percent = 0 if batch.status == "queued" else None
    if total is not None:
        progress = t("progress.rows", done=_number(done), total=_number(total))
    else:
        progress = t("progress.rows_unknown", done=_number(done))
    shown_total = total if total is not None else (done if batch.status == "done" else None)
    view = BatchView(
        id=batch.id,
        name=batch.name or batch.filename,
        filename=batch.filename,
        status=batch.status,
        rows_total=total,
        rows_done=done,
        rows_failed=batch.rows_failed or 0,
        created_iso=batch.created_at.isoformat(),
        created_label=_created_label(batch.created_at, t.lang),
        error_code=batch.error_code,
        error_message=batch.error_message,
        percent=percent,
        progress_label=progress,
        rows_label=_number(shown_total) if shown_total is not None else "–",
        summary_line=" · ".join(
            part
            for part in (
                batch.filename,
                t("progress.rows_unknown", done=_number(shown_total))
                if shown_total is not None
                else "",
                _created_label(batch.created_at, t.lang),
            )
            if part
        ),
    )
    counts = _summary_sentiment(batch.summary)
    if counts:
        total_sentiment = sum(counts.values())
        view.sentiment_total = total_sentiment
        if total_sentiment:
            # Negative first: the part of the bar people look for.
            order = ("negative", "neutral", "positive")
            view.sentiment = [(k, counts[k], counts[k] / total_sentiment) for k in order]
            view.sentiment_title = ", ".join(
                f"{t.sentiment(k)} {_percent(share)} ({count})"
                for k, count, share in view.sentiment
            )
    return view


def _summary_sentiment(summary: dict[str, Any] | None) -> dict[str, int] | None:
    if not summary or not isinstance(summary.get("sentiment"), dict):
        return None
    return {key: int(summary["sentiment"].get(key, 0) or 0) for key in SENTIMENTS}


# --- filters -------------------------------------------------------------------------------


@dataclass
class FilterField:
    column: str
    values: list[str]
    selected: str | None


def filter_fields(columns: dict[str, Any], filters: Filters) -> list[FilterField]:
    fields = []
    for column in columns.get("metadata", []):
        name = column["name"]
        chosen = filters.metadata.get(name, ())
        rows = sum(v["rows"] for v in column.get("values", []))
        distinct = column.get("distinct", 0)
        if not chosen and (distinct > MAX_FILTER_VALUES or (distinct == rows and rows > 1)):
            continue
        values = [v["value"] for v in column.get("values", [])]
        fields.append(FilterField(name, sorted(values), chosen[0] if chosen else None))
    return fields


def filter_params(filters: Filters) -> list[tuple[str, str]]:
    params = [
        ("filter", f"{column}:{value}")
        for column, values in filters.metadata.items()
        for value in values
    ]
    if filters.date_from:
        params.append(("date_from", filters.date_from.isoformat()))
    if filters.date_to:
        params.append(("date_to", filters.date_to.isoformat()))
    return params


def _dates(columns: dict[str, Any], filters: Filters) -> dict[str, str | None] | None:
    if not columns.get("date_column"):
        return None
    return {
        "min": columns.get("date_min"),
        "max": columns.get("date_max"),
        "date_from": filters.date_from.isoformat() if filters.date_from else None,
        "date_to": filters.date_to.isoformat() if filters.date_to else None,
    }


# --- overview ------------------------------------------------------------------------------


@dataclass
class Kpi:
    key: str
    label: str
    value: str
    note: str
    tone: str | None = None
    is_text: bool = False


@dataclass
class OverviewView:
    batch_id: str
    filters_query: str
    filter_fields: list[FilterField]
    dates: dict[str, str | None] | None
    filter_summary: str
    kpis: list[Kpi]
    chart_data: dict[str, Any]
    drivers: dict[str, Any] | None
    trend: dict[str, Any] | None
    sentiment_alt: str
    topics_alt: str

    @property
    def comments_url(self) -> str:
        return f"/batches/{self.batch_id}/comments"

    @property
    def json_url(self) -> str:
        return f"/batches/{self.batch_id}.json" + (
            f"?{self.filters_query}" if self.filters_query else ""
        )

    def export_url(self, fmt: str) -> str:
        query = f"?{self.filters_query}" if self.filters_query else ""
        return f"/batches/{self.batch_id}/export.{fmt}{query}"

    def comments_link(self, **params: str) -> str:
        query = self.filters_query
        extra = urlencode(params)
        return f"{self.comments_url}?{query + '&' if query else ''}{extra}"

    def png_name(self, chart: str) -> str:
        return f"vicx-{self.batch_id}-{chart}.png"


def overview_view(
    t: Translator,
    batch: Batch,
    breakdown: dict[str, Any],
    columns: dict[str, Any],
    filters: Filters,
) -> OverviewView:
    sentiment = breakdown["sentiment"]
    topics = breakdown["topics"]
    chart_topics = [
        {
            "name": row["topic"],
            "label": t.topic(row["topic"]),
            **{
                key: int(row["polarity"].get(key, 0)) for key in ("positive", "neutral", "negative")
            },
        }
        for row in topics
    ]
    drivers = _drivers(t, breakdown)
    trend = _trend(t, breakdown)
    labels = {key: t.sentiment(key) for key in SENTIMENTS}
    labels |= {"comments": t("overview.comments"), "mentions": t("chart.mentions")}
    query = urlencode(filter_params(filters))
    chart_data: dict[str, Any] = {
        "labels": labels,
        "sentiment": [
            {"key": key, "label": t.sentiment(key), "count": int(sentiment.get(key, 0))}
            for key in SENTIMENTS
        ],
        "topics": chart_topics,
        "drivers": drivers,
        "trend": trend,
        "comments_url": f"/batches/{batch.id}/comments",
        "filters_query": query,
    }
    rows, total = breakdown["rows"], breakdown["rows_total"]
    summary = (
        t("filters.active", n=_number(rows))
        if not filters.is_empty()
        else t("overview.of_rows", rows=_number(total))
    )
    return OverviewView(
        batch_id=batch.id,
        filters_query=query,
        filter_fields=filter_fields(columns, filters),
        dates=_dates(columns, filters),
        filter_summary=summary,
        kpis=_kpis(t, breakdown, chart_topics),
        chart_data=chart_data,
        drivers=drivers,
        trend=trend,
        sentiment_alt=", ".join(f"{t.sentiment(k)}: {sentiment.get(k, 0)}" for k in SENTIMENTS),
        topics_alt="; ".join(
            f"{row['label']}: "
            + ", ".join(f"{t.sentiment(k)} {row[k]}" for k in ("positive", "neutral", "negative"))
            for row in chart_topics
        ),
    )


def _kpis(t: Translator, breakdown: dict[str, Any], topics: list[dict[str, Any]]) -> list[Kpi]:
    sentiment = breakdown["sentiment"]
    judged = sum(int(sentiment.get(k, 0)) for k in SENTIMENTS)
    negative = int(sentiment.get("negative", 0))
    rows, total = breakdown["rows"], breakdown["rows_total"]
    note = t("overview.of_rows", rows=_number(total)) if rows != total else ""
    failed = breakdown.get("rows_with_errors") or 0
    if failed:
        note = (note + " · " if note else "") + t("overview.failed_rows", n=_number(failed))
    kpis = [
        Kpi("comments", t("overview.comments"), _number(rows), note),
        Kpi(
            "negative",
            t("overview.negative_share"),
            _percent(negative / judged if judged else None),
            f"{_number(negative)} / {_number(judged)}",
            "negative",
        ),
        _score_kpi(t, breakdown),
    ]
    worst = max(topics, key=lambda row: row["negative"], default=None)
    if worst is not None and worst["negative"] > 0:
        kpis.append(
            Kpi(
                "top_issue",
                t("overview.top_issue"),
                worst["label"],
                t("overview.top_issue_label", count=_number(worst["negative"])),
                is_text=True,
            )
        )
    else:
        kpis.append(
            Kpi("top_issue", t("overview.top_issue"), t("overview.no_issue"), "", is_text=True)
        )
    return kpis


def _score_kpi(t: Translator, breakdown: dict[str, Any]) -> Kpi:
    score = breakdown.get("score")
    if score and score["scale"] == "nps":
        summary = score["summary"]
        value = summary.get("nps")
        return Kpi(
            "nps",
            t("overview.nps"),
            _signed(value, 0) if value is not None else "–",
            t(
                "overview.nps_label",
                column=score["column"],
                low=_number(summary.get("ci_low"), 0),
                high=_number(summary.get("ci_high"), 0),
            ),
            None if value is None else ("positive" if value >= 0 else "negative"),
        )
    if score:
        summary = score["summary"]
        return Kpi(
            "score",
            t("overview.box"),
            _number(summary.get("mean"), 2),
            t(
                "overview.box_label",
                scale=score["scale"].upper(),
                top2=_percent(summary.get("top2_share")),
                bottom2=_percent(summary.get("bottom2_share")),
            ),
        )
    predicted = (breakdown.get("predicted") or {}).get("summary") or {}
    return Kpi(
        "predicted",
        t("overview.predicted"),
        _percent(predicted.get("detractor_rate")),
        t("overview.predicted_label"),
        "negative",
    )


def _drivers(t: Translator, breakdown: dict[str, Any]) -> dict[str, Any] | None:
    """The driver chart and table: costliest topic first, topics nobody mentioned left out."""
    score = breakdown.get("score")
    if score and score.get("driver_impact"):
        by_topic = {row["topic"]: row for row in score.get("by_topic", [])}
        rows = [
            {
                "name": row["topic"],
                "label": t.topic(row["topic"]),
                "mentions": row["mentions"],
                "impact": row["impact"],
                "impact_text": _signed(row["impact"]),
                "hurts": row["impact"] < 0,
                "topic_score_text": _signed(by_topic.get(row["topic"], {}).get("nps"), 0),
            }
            for row in score["driver_impact"]
            if row["mentions"] > 0 and row["impact"] is not None
        ]
        rows.sort(key=lambda row: row["impact"])
        return {
            "kind": "nps",
            "title": t("chart.drivers"),
            "help": t("chart.drivers_help"),
            "unit": "NPS",
            "impact_label": t("table.impact"),
            "score_label": t("table.topic_nps"),
            "rows": rows,
        }
    if score:
        # CSAT / CES / stars: how far each topic's mean score is from the overall mean.
        overall = score["summary"].get("mean")
        rows = []
        for row in score.get("by_topic", []):
            if not row.get("n") or row.get("mean") is None or overall is None:
                continue
            gap = round(row["mean"] - overall, 2)
            rows.append(
                {
                    "name": row["topic"],
                    "label": t.topic(row["topic"]),
                    "mentions": row["n"],
                    "impact": gap,
                    "impact_text": _signed(gap, 2),
                    "hurts": gap < 0,
                    "topic_score_text": _number(row["mean"], 2),
                }
            )
        rows.sort(key=lambda row: row["impact"])
        return {
            "kind": "box",
            "title": t("chart.drivers"),
            "help": t("chart.drivers_help"),
            "unit": score["scale"].upper(),
            "impact_label": t("chart.impact"),
            "score_label": t("overview.box"),
            "rows": rows,
        }
    predicted = breakdown.get("predicted") or {}
    impact = predicted.get("driver_impact") or []
    rows = [
        {
            "name": row["topic"],
            "label": t.topic(row["topic"]),
            "mentions": row["mentions"],
            "impact": row["impact"],
            "impact_text": _signed(row["impact"]),
            "hurts": row["impact"] > 0,
            "topic_score_text": None,
        }
        for row in impact
        if row["mentions"] > 0 and row["impact"] is not None
    ]
    if not rows:
        return None
    rows.sort(key=lambda row: -row["impact"])
    return {
        "kind": "predicted",
        "title": t("chart.drivers_predicted"),
        "help": t("chart.drivers_predicted_help"),
        "unit": "pp",
        "impact_label": t("table.impact_predicted"),
        "score_label": None,
        "rows": rows,
    }


def _period_range(key: str) -> tuple[str, str]:
    """First and last day of ``2026-10`` (a month) or ``2026-W41`` (an ISO week)."""
    if "-W" in key:
        iso_year, iso_week = key.split("-W")
        start = date.fromisocalendar(int(iso_year), int(iso_week), 1)
        return start.isoformat(), (start + timedelta(days=6)).isoformat()
    year, month = (int(part) for part in key.split("-"))
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return start.isoformat(), (following - timedelta(days=1)).isoformat()


def _trend(t: Translator, breakdown: dict[str, Any]) -> dict[str, Any] | None:
    trends = breakdown.get("trends")
    if not trends:
        return None
    months, weeks = trends.get("month") or [], trends.get("week") or []
    periods = months if len(months) >= MIN_TREND_MONTHS or len(weeks) <= len(months) else weeks
    if not periods:
        return None
    has_nps = any(p.get("nps") for p in periods)
    metric: list[float | None] = []
    for period in periods:
        if has_nps:
            metric.append((period.get("nps") or {}).get("nps"))
        else:
            judged = sum(period["sentiment"].values())
            share = period["sentiment"].get("negative", 0) / judged if judged else None
            metric.append(None if share is None else round(100 * share, 1))
    metric_label = "NPS" if has_nps else t("chart.negative_rate")
    return {
        "help": t(
            "chart.trend_help_month" if periods is months else "chart.trend_help_week",
            column=trends.get("column", ""),
            metric=metric_label,
        ),
        "periods": [
            dict(zip(("from", "to"), _period_range(p["period"]), strict=True), label=p["period"])
            for p in periods
        ],
        "series": {
            key: [int(p["sentiment"].get(key, 0)) for p in periods]
            for key in ("positive", "neutral", "negative")
        },
        "metric": metric,
        "metric_label": metric_label,
        "metric_unit": "NPS" if has_nps else "%",
    }


# --- comments ------------------------------------------------------------------------------


@dataclass
class TopicBadge:
    name: str
    label: str
    polarity: str


@dataclass
class CommentItem:
    row_no: int
    text: str | None
    html: Markup
    sentiment: str | None
    topics: list[TopicBadge]
    meta: list[tuple[str, str]]
    date: str | None
    score: float | None
    score_text: str
    detractor: float | None
    detractor_text: str
    detractor_percent: int
    error: str | None


@dataclass
class CommentsView:
    batch_id: str
    heading: str
    total: int
    page: int
    pages: int
    first_index: int
    items: list[CommentItem]
    q: str
    topic: str | None
    sentiment: str | None
    polarity: str | None
    sort: str
    has_score: bool
    filters_query: str
    filter_fields: list[FilterField]
    dates: dict[str, str | None] | None
    drill_params: list[tuple[str, str]]

    @property
    def comments_url(self) -> str:
        return f"/batches/{self.batch_id}/comments"

    @property
    def overview_link(self) -> str:
        query = f"?{self.filters_query}" if self.filters_query else ""
        return f"/batches/{self.batch_id}{query}"

    def _query(self, extra: list[tuple[str, str]]) -> str:
        return urlencode([*self.drill_params, *extra])

    @property
    def json_url(self) -> str:
        return f"{self.comments_url}.json?{self._query([('page', str(self.page))])}"

    def page_url(self, page: int) -> str:
        return f"{self.comments_url}?{self._query([('page', str(page))])}"

    def export_url(self, fmt: str) -> str:
        query = self._query([])
        return f"/batches/{self.batch_id}/export.{fmt}" + (f"?{query}" if query else "")


def _comment_item(t: Translator, item: dict[str, Any], metadata: list[str]) -> CommentItem:
    polarities: dict[str, str] = item.get("topic_sentiments") or {}
    text = item.get("text")
    probability = item.get("detractor_probability")
    score = item.get("score")
    meta = item.get("meta") or {}
    return CommentItem(
        row_no=item["row_no"],
        text=text,
        html=highlight(text, item.get("highlights") or [], polarities) if text else Markup(""),
        sentiment=item.get("sentiment"),
        topics=[
            TopicBadge(name, t.topic(name), polarities.get(name, "neutral"))
            for name in item.get("topics") or []
        ],
        meta=[(name, str(meta[name])) for name in metadata if meta.get(name) not in (None, "")],
        date=item.get("date"),
        score=score,
        score_text=_number(score, 0 if score is not None and float(score).is_integer() else 1),
        detractor=probability,
        detractor_text=_percent(probability),
        detractor_percent=round(100 * probability) if probability is not None else 0,
        error=item.get("error_message"),
    )


def comments_view(
    t: Translator,
    batch: Batch,
    page: dict[str, Any],
    columns: dict[str, Any],
    filters: Filters,
) -> CommentsView:
    scoped = page["filters"]
    topic, sentiment, polarity = scoped["topic"], scoped["sentiment"], scoped["polarity"]
    heading_parts = [t.topic(topic) if topic else t("comments.title")]
    if polarity:
        heading_parts.append(t.sentiment(polarity).lower())
    if sentiment:
        heading_parts.append(
            f"({t('comments.sentiment').lower()}: {t.sentiment(sentiment).lower()})"
        )
    total, size = page["total"], page["page_size"]
    drill = filter_params(filters)
    drill += [
        (name, value)
        for name, value in (
            ("topic", topic),
            ("polarity", polarity),
            ("sentiment", sentiment),
            ("q", page.get("q")),
            ("sort", page["sort"] if page["sort"] != "row" else None),
        )
        if value
    ]
    metadata = list(batch.metadata_columns or [])
    return CommentsView(
        batch_id=batch.id,
        heading=" ".join(heading_parts),
        total=total,
        page=page["page"],
        pages=max(1, math.ceil(total / size)) if size else 1,
        first_index=(page["page"] - 1) * size + 1,
        items=[_comment_item(t, item, metadata) for item in page["items"]],
        q=page.get("q") or "",
        topic=topic,
        sentiment=sentiment,
        polarity=polarity,
        sort=page["sort"],
        has_score=bool(batch.score_column),
        filters_query=urlencode(filter_params(filters)),
        filter_fields=filter_fields(columns, filters),
        dates=_dates(columns, filters),
        drill_params=drill,
    )
