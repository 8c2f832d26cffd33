"""A bounded load generator for the real-time route (`vicx loadtest`).

N concurrent clients each POST one Vietnamese comment at a time to ``/v1/analyze`` for S
seconds; the report has request and error counts, latency percentiles and throughput. With a
batch file, a further client uploads it to ``/v1/batches`` every few seconds meanwhile and the
report says whether every batch finished; with the server's pid, the server's resident memory
is sampled every second (growth over a long run points at a leak). It only targets loopback
addresses: it is a benchmark of this machine's server, not a tool to point at other people's
services.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

#: Varied real-world style comments (accents, teencode, emoji, no diacritics), cycled per client.
COMMENTS: Final = (
    "Nhân viên tư vấn nhiệt tình, giao hàng nhanh",
    "Đồ ăn ngon nhưng phục vụ hơi chậm, giá hơi cao",
    "Giao hàng trễ 3 ngày, gọi tổng đài không ai nghe máy",
    "App hay bị lỗi khi thanh toán, rất bực mình",
    "Phòng sạch sẽ, view đẹp, giá hợp lý",
    "Cho hỏi chi nhánh Quận 7 mở cửa mấy giờ?",
    "sp ok nhưng ship lâu quá, đóng gói cẩu thả",
    "nv thái độ lồi lõm, ko bao giờ quay lại 😡",
    "Khuyến mãi ảo, quảng cáo một đằng giao một nẻo",
    "Thủ tục hoàn tiền rườm rà, chờ cả tháng chưa xong",
    "Bác sĩ tận tâm, giải thích kỹ, y tá dễ thương",
    "Giáo viên dạy dễ hiểu nhưng phòng học nóng quá",
    "chat luong tot, gia re, se ung ho tiep",
    "Wifi yếu, bãi đỗ xe chật, nhà vệ sinh bẩn",
    "Mình dùng dịch vụ được 2 năm rồi, nên có thêm gói cước rẻ hơn",
    "Tuyệt vời!!! 10 điểm không có nhưng 👍👍",
    "Voucher không áp dụng được, hỏi CSKH thì đùn đẩy",
    "Hàng chính hãng, bảo hành nhanh gọn",
    "Xếp hàng 45 phút mới tới lượt, quá tệ",
    "Không có ý kiến gì thêm",
)


class LoadTestError(Exception):
    """The load test cannot run as asked (e.g. a non-loopback URL)."""


@dataclass
class LoadReport:
    url: str
    concurrency: int
    seconds: float
    requests: int
    errors: int
    throughput_per_second: float
    latency_ms: dict[str, float]
    error_kinds: dict[str, int] = field(default_factory=dict)
    batches: dict[str, Any] = field(default_factory=dict)
    server_rss_mb: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        latency = self.latency_ms
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.error_kinds.items()))
        return (
            f"{self.requests} requests in {self.seconds:.1f} s from {self.concurrency} clients "
            f"against {self.url}\n"
            f"errors: {self.errors}{f' ({kinds})' if kinds else ''}\n"
            f"throughput: {self.throughput_per_second:.1f} requests/s\n"
            f"latency ms: p50 {latency['p50']:.1f}  p95 {latency['p95']:.1f}  "
            f"p99 {latency['p99']:.1f}  max {latency['max']:.1f}  mean {latency['mean']:.1f}"
            + (
                f"\nbatches: {self.batches['uploaded']} uploaded, {self.batches['done']} done, "
                f"{self.batches['errors']} errors ({self.batches['rows']:,} rows)"
                if self.batches
                else ""
            )
            + (
                f"\nserver RSS MB: start {self.server_rss_mb['start']:.0f}  "
                f"peak {self.server_rss_mb['peak']:.0f}  end {self.server_rss_mb['end']:.0f}"
                if self.server_rss_mb
                else ""
            )
        )


def check_loopback(url: str) -> str:
    """The URL's host if it is a loopback address (or ``localhost``); else LoadTestError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadTestError(f"not an http(s) URL: {url!r}")
    host = parts.hostname
    if host == "localhost":
        return host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LoadTestError(
            f"refusing to load {host}: only loopback addresses (127.0.0.0/8, ::1, localhost)"
        )
    return host


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (``q`` in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def _client_loop(
    http: httpx.AsyncClient,
    start_index: int,
    deadline: float,
    latencies: list[float],
    errors: Counter[str],
) -> None:
    index = start_index
    while time.perf_counter() < deadline:
        body = {"text": COMMENTS[index % len(COMMENTS)]}
        index += 1
        started = time.perf_counter()
        try:
            response = await http.post("/v1/analyze", json=body)
        except httpx.HTTPError as error:
            errors[type(error).__name__] += 1
            continue
        elapsed = time.perf_counter() - started
        if response.status_code == 200:
            latencies.append(elapsed)
        else:
            errors[f"HTTP {response.status_code}"] += 1


@dataclass
class BatchLoad:
    """Upload ``path`` (its comments in ``text_column``) every ``every`` seconds."""

    path: Path
    text_column: str
    every: float = 10.0
    ids: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def _batch_loop(http: httpx.AsyncClient, load: BatchLoad, deadline: float) -> None:
    content = load.path.read_bytes()
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            response = await http.post(
                "/v1/batches",
                files={"file": (load.path.name, content, "text/csv")},
                data={"text_column": load.text_column},
            )
        except httpx.HTTPError as error:
            load.errors[type(error).__name__] += 1
        else:
            if response.status_code == 202:
                load.ids.append(response.json()["id"])
            else:
                load.errors[f"HTTP {response.status_code}"] += 1
        await asyncio.sleep(max(0.0, load.every - (time.perf_counter() - started)))


async def _wait_batches(http: httpx.AsyncClient, load: BatchLoad, timeout: float) -> dict[str, Any]:
    """Poll every uploaded batch until it ends (or ``timeout``): none may fail or get lost."""
    pending = set(load.ids)
    done = 0
    rows = 0
    deadline = time.perf_counter() + timeout
    while pending and time.perf_counter() < deadline:
        for batch_id in sorted(pending):
            status = (await http.get(f"/v1/batches/{batch_id}")).json()
            if status.get("status") == "done":
                done += 1
                rows += int(status.get("rows_done") or 0)
                pending.discard(batch_id)
            elif status.get("status") == "failed":
                load.errors["batch failed"] += 1
                pending.discard(batch_id)
        await asyncio.sleep(0.5)
    if pending:
        load.errors["batch not finished"] += len(pending)
    return {
        "uploaded": len(load.ids),
        "done": done,
        "rows": rows,
        "errors": sum(load.errors.values()),
        "error_kinds": dict(load.errors),
    }


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


async def _sample_rss(pid: int, deadline: float, samples: list[float]) -> None:
    while time.perf_counter() < deadline:
        value = _rss_mb(pid)
        if value is not None:
            samples.append(value)
        await asyncio.sleep(1.0)


async def _run(
    url: str,
    key: str | None,
    concurrency: int,
    seconds: float,
    batch: BatchLoad | None = None,
    server_pid: int | None = None,
) -> LoadReport:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    # One connection per client, plus one for the batch uploader (it must not queue behind them).
    connections = concurrency + (1 if batch is not None else 0)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        # Warm-up (not counted): open every connection and check the key once.
        warmup = await asyncio.gather(
            *(http.post("/v1/analyze", json={"text": COMMENTS[i % len(COMMENTS)]})
              for i in range(concurrency)),
            return_exceptions=True,
        )  # fmt: skip
        for result in warmup:
            if isinstance(result, BaseException):
                raise LoadTestError(f"cannot reach {url}: {result!r}")
            if result.status_code != 200:
                raise LoadTestError(
                    f"warm-up request answered {result.status_code}: {result.text[:300]}"
                )
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        started = time.perf_counter()
        deadline = started + seconds
        rss: list[float] = []
        side: list[Any] = []
        if batch is not None:
            side.append(_batch_loop(http, batch, deadline))
        if server_pid is not None:
            side.append(_sample_rss(server_pid, deadline, rss))
        await asyncio.gather(
            *(_client_loop(http, i, deadline, latencies, errors) for i in range(concurrency)),
            *side,
        )
        elapsed = time.perf_counter() - started
        batches = await _wait_batches(http, batch, timeout=600) if batch is not None else {}
    ordered = sorted(latency * 1000 for latency in latencies)
    requests = len(latencies) + sum(errors.values())
    return LoadReport(
        url=url,
        concurrency=concurrency,
        seconds=round(elapsed, 2),
        requests=requests,
        errors=sum(errors.values()),
        throughput_per_second=round(requests / elapsed, 1),
        latency_ms={
            "p50": round(percentile(ordered, 50), 2),
            "p95": round(percentile(ordered, 95), 2),
            "p99": round(percentile(ordered, 99), 2),
            "max": round(ordered[-1], 2) if ordered else float("nan"),
            "mean": round(sum(ordered) / len(ordered), 2) if ordered else float("nan"),
        },
        error_kinds=dict(errors),
        batches=batches,
        server_rss_mb={"start": rss[0], "peak": max(rss), "end": rss[-1]} if rss else {},
    )


def run_loadtest(
    url: str,
    *,
    key: str | None,
    concurrency: int = 20,
    seconds: float = 60.0,
    batch: BatchLoad | None = None,
    server_pid: int | None = None,
) -> LoadReport:
    """Run the load test against ``url`` (loopback only) and return its report."""
    check_loopback(url)
    if concurrency < 1 or seconds <= 0:
        raise LoadTestError("concurrency must be >= 1 and seconds > 0")
    if batch is not None and not batch.path.is_file():
        raise LoadTestError(f"batch file not found: {batch.path}")
    return asyncio.run(_run(url.rstrip("/"), key, concurrency, seconds, batch, server_pid))
