"""The real-time micro-batcher with the real Analyzer: grouping must never mix up results."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from api.service.realtime import MicroBatcher
from nlp.analyzer import Analyzer
from nlp.result import Result

TEXTS = [
    f"{text} (lần {i})"
    for i, text in enumerate(
        [
            "Đồ ăn ngon nhưng phục vụ chậm quá",
            "Giao hàng trễ, shipper thái độ",
            "Phòng sạch, giá hợp lý",
            "",
        ]
        * 8
    )
]


def test_concurrent_requests_are_grouped_and_each_gets_its_own_results(
    analyzer: Analyzer,
) -> None:
    groups: list[int] = []

    async def run() -> list[list[Result]]:
        batcher = MicroBatcher(analyzer.analyze, max_group_texts=10, on_group=groups.append)
        batcher.start()
        try:
            requests = [TEXTS[i : i + 1] for i in range(0, 24)] + [TEXTS[24:32]]
            return await asyncio.gather(*(batcher.analyze(texts) for texts in requests))
        finally:
            await batcher.stop()

    answers = asyncio.run(run())
    expected = analyzer.analyze(TEXTS)
    assert [r.to_dict() for answer in answers for r in answer] == [r.to_dict() for r in expected]
    assert sum(groups) == len(TEXTS)
    assert len(groups) < 25  # grouped, not one call per request
    assert max(groups) <= 10


def test_a_failure_reaches_every_request_of_its_group() -> None:
    def broken(texts: Sequence[str]) -> list[Result]:
        raise RuntimeError("boom")

    async def run() -> list[object]:
        batcher = MicroBatcher(broken)
        batcher.start()
        try:
            return await asyncio.gather(
                batcher.analyze(["a"]), batcher.analyze(["b"]), return_exceptions=True
            )
        finally:
            await batcher.stop()

    outcomes = asyncio.run(run())
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_a_request_bigger_than_a_group_runs_alone(analyzer: Analyzer) -> None:
    groups: list[int] = []

    async def run() -> list[Result]:
        batcher = MicroBatcher(analyzer.analyze, max_group_texts=4, on_group=groups.append)
        batcher.start()
        try:
            return await batcher.analyze(TEXTS[:9])
        finally:
            await batcher.stop()

    assert len(asyncio.run(run())) == 9
    assert groups == [9]
