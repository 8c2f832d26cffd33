"""The real-time API section of ``vicx bench --api-url``: a running service's latency under load.

The load is ``vicx loadtest``'s (:mod:`api.loadtest`: N concurrent clients POST one comment at a
time to ``/v1/analyze`` for S seconds, loopback addresses only); this module puts its report into
the benchmark's markdown and JSON.
"""

from __future__ import annotations

from typing import Any

from api.loadtest import LoadReport, run_loadtest
from nlp.markdown import markdown_table


def api_markdown(report: LoadReport) -> str:
    latency = report.latency_ms
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(report.error_kinds.items())) or "none"
    rows = [
        ("endpoint", f"`POST {report.url}/v1/analyze`, one comment per request"),
        ("load", f"{report.concurrency} concurrent clients for {report.seconds:.0f} s"),
        ("requests", f"{report.requests:,}"),
        ("throughput", f"{report.throughput_per_second:,.1f} requests/s"),
        (
            "latency p50 / p95 / p99",
            f"{latency['p50']:.1f} / {latency['p95']:.1f} / {latency['p99']:.1f} ms",
        ),
        ("errors", f"{report.errors:,} ({kinds})"),
    ]
    return markdown_table(["real-time API", "value"], rows)


def api_section(
    url: str, *, key: str | None, seconds: float, concurrency: int
) -> tuple[str, dict[str, Any]]:
    """Load ``url`` and return the report as a markdown table and as a JSON-ready dict."""
    report = run_loadtest(url, key=key, concurrency=concurrency, seconds=seconds)
    return api_markdown(report), report.to_dict()
