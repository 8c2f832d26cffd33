"""Hostile text: generated cases, the Result contract they must keep, and what they cost.

The hand-written naughty strings (empty and invisible text, control characters, lone
surrogates, RTL marks, emoji sequences, HTML/JS, SQL, mixed scripts ...) are a data file of the
source checkout, ``tests/data/naughty_strings.json``. This module generates the rest: 1 MB
comments, every Vietnamese vowel with every tone mark in NFC and NFD, long single words, and
the input shapes that once made a pattern or a loop superlinear. ``vicx bench-robustness`` runs
them all through the normaliser, the PII redaction and ``Analyzer.analyze`` and reports the
slowest comment; the tests in ``tests/test_hostile_text.py`` assert the contract on the same
cases.
"""

from __future__ import annotations

import json
import math
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from nlp.analyzer import MAX_TEXT_CHARS, Analyzer
from nlp.markdown import markdown_table
from nlp.normalize import Normalizer
from nlp.pii import redact
from nlp.result import FLAG_EMPTY_TEXT, FLAG_NOT_TEXT, FLAG_TRUNCATED, SENTIMENTS, Result
from nlp.taxonomy import topic_names

#: The hand-written list, in the source checkout (it is not installed with the wheel).
NAUGHTY_STRINGS_FILE: Final = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "naughty_strings.json"
)
MEGABYTE: Final = 1_000_000
#: How far ``sentiment_scores`` may be from summing to 1 (they are rounded to 4 decimals).
SCORE_SUM_TOLERANCE: Final = 1e-3

BASE_VOWELS: Final = "aăâeêioôơuưy"
#: Grave, acute, hook above, tilde, dot below: the five Vietnamese tone marks.
TONE_MARKS: Final = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")

SENTENCE: Final = "Đồ ăn ngon nhưng phục vụ chậm quá, giá hơi cao so với khẩu phần. "
#: Units repeated up to a length: each made a pattern or a loop superlinear before it was fixed
#: (the fix cites it), or exercises one of the normaliser's patterns at length.
REPEATED_UNITS: Final = (
    ("adot", "x"),  # _SPELLED_DOMAIN: exponential backtracking
    ("a", "@"),  # e-mail pattern: quadratic rescans of a local part
    ("a.", "@x"),
    ("a-", "a.co"),  # _BARE_DOMAIN: quadratic rescans of hyphenated labels
    ("0", ""),  # phone pattern: every position of a digit run tried
    ("giá, ", ""),  # topic head: clause lookups quadratic in clauses
    ("dot", "x"),
    ("0 ", ""),
    ("1.", "đ"),
    ("1-", "k"),
    ("wzjwz", ""),
    (":-", ""),
    ("&#", ""),
    ("<a ", ""),
    ("http://.", ""),
    ("www.", ""),
    ("1900 ", ""),
    ("+84", ""),
    ("(0", ""),
    ("stk vcb ", ""),
    ("số ", ""),
    ("nhưng ", ""),
    ("không ", ""),
    ("\u0301", ""),
)

Case = tuple[str, object]


def repeated(unit: str, length: int, tail: str = "") -> str:
    """``unit`` repeated to ``length`` characters, then ``tail``."""
    return (unit * (length // len(unit) + 1))[: length - len(tail)] + tail


def vowel_tone_grid(form: Literal["NFC", "NFD"]) -> list[str]:
    """Every base vowel, lower and upper case, alone and with every tone mark, in ``form``.

    ``vowel_tone_grid("NFD")[1]`` is ``"a\\u0300"``; in NFC it is ``"à"``.
    """
    grid = []
    for vowel in BASE_VOWELS + BASE_VOWELS.upper():
        for mark in ("", *TONE_MARKS):
            grid.append(unicodedata.normalize(form, vowel + mark))
    return grid


def generated_cases(length: int = MAX_TEXT_CHARS) -> list[tuple[str, str]]:
    """Named hostile texts; the repeated units are ``length`` characters long.

    The default length is the Analyzer's limit, the most it ever analyses of one comment.
    """
    cases: list[tuple[str, str]] = []
    forms: tuple[Literal["NFC", "NFD"], ...] = ("NFC", "NFD")
    for form in forms:
        grid = vowel_tone_grid(form)
        cases.append((f"vowel x tone grid, {form}, one comment", " ".join(grid)))
        cases.append((f"vowel x tone grid, {form}, syllables", " ".join(f"ng{v}n" for v in grid)))
    cases += [
        ("1 MB of one letter", "a" * MEGABYTE),
        ("1 MB of Vietnamese sentences", repeated(SENTENCE, MEGABYTE)),
        ("1 MB of Vietnamese, NFD", unicodedata.normalize("NFD", repeated(SENTENCE, MEGABYTE))),
        ("1 MB of digits", "7" * MEGABYTE),
        ("1 MB of spaces", " " * MEGABYTE),
        ("1 MB of punctuation", repeated(",.!?;:", MEGABYTE)),
        ("1 MB of ZWJ family emoji", repeated("👨\u200d👩\u200d👧\u200d👦", MEGABYTE)),
        ("1 MB of NUL", "\x00" * MEGABYTE),
        ("1 MB of clauses", repeated("giá, ", MEGABYTE)),
        ("one 100,000-letter word", repeated("ngon", 100_000)),
        ("one 100,000-letter accented word", repeated("nguyễn", 100_000)),
        ("just over the limit", repeated(SENTENCE, MAX_TEXT_CHARS + 1)),
    ]
    for unit, tail in REPEATED_UNITS:
        cases.append(
            (f"{unit!r} repeated to {length:,} chars + {tail!r}", repeated(unit, length, tail))
        )
    return cases


NOT_TEXT: Final[tuple[Case, ...]] = (
    ("None", None),
    ("NaN", math.nan),
    ("int", 42),
    ("float", 3.5),
    ("infinity", math.inf),
    ("bool", True),
    ("bytes", b"ngon"),
    ("list", ["ngon"]),
    ("dict", {"text": "ngon"}),
)


def load_naughty_strings(path: Path = NAUGHTY_STRINGS_FILE) -> list[tuple[str, str]]:
    """``(category #n, text)`` for each string of the hand-written list."""
    groups: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return [
        (f"{category} #{number}", text)
        for category, texts in groups.items()
        for number, text in enumerate(texts)
    ]


def contract_problems(result: Result, item: object, topics: Sequence[str]) -> list[str]:
    """How ``result`` (the Analyzer's answer for ``item``) breaks the Result contract; [] if not.

    The contract: sentiment is one of the three labels, its scores sum to 1, topic scores are
    probabilities, the topics are a subset of the taxonomy with one polarity each, evidence is
    given only for detected topics, the detractor probability is in [0, 1], and the flags say why
    a row holds defaults or was cut.
    """
    problems = []
    if result.sentiment not in SENTIMENTS:
        problems.append(f"sentiment {result.sentiment!r} not in {SENTIMENTS}")
    if set(result.sentiment_scores) != set(SENTIMENTS):
        problems.append(f"sentiment_scores keys {sorted(result.sentiment_scores)}")
    scores = list(result.sentiment_scores.values())
    if not all(_is_probability(p) for p in scores):
        problems.append(f"sentiment_scores not in [0, 1]: {scores}")
    elif abs(sum(scores) - 1.0) > SCORE_SUM_TOLERANCE:
        problems.append(f"sentiment_scores sum to {sum(scores)}")
    if not set(result.topic_scores) <= set(topics):
        problems.append(f"unknown topics in topic_scores: {sorted(result.topic_scores)}")
    if not all(_is_probability(p) for p in result.topic_scores.values()):
        problems.append(f"topic_scores not in [0, 1]: {result.topic_scores}")
    if not set(result.topics) <= set(topics) or len(set(result.topics)) != len(result.topics):
        problems.append(f"topics {result.topics} not distinct names of the taxonomy")
    if set(result.topic_sentiments) != set(result.topics):
        problems.append(f"topic_sentiments keys {sorted(result.topic_sentiments)} != topics")
    if not set(result.topic_sentiments.values()) <= set(SENTIMENTS):
        problems.append(f"topic polarity not in {SENTIMENTS}: {result.topic_sentiments}")
    if not set(result.evidence) <= set(result.topics):
        problems.append(f"evidence for undetected topics: {sorted(result.evidence)}")
    probability = result.detractor_probability
    if probability is not None and not _is_probability(probability):
        problems.append(f"detractor_probability {probability} not in [0, 1]")
    problems += _flag_problems(result, item)
    return problems


def _flag_problems(result: Result, item: object) -> list[str]:
    if isinstance(item, str):
        expected_truncated = len(item) > MAX_TEXT_CHARS
        if (FLAG_TRUNCATED in result.flags) != expected_truncated:
            return [f"flags {result.flags} for a text of {len(item):,} characters"]
        return []
    missing = item is None or (isinstance(item, float) and math.isnan(item))
    expected = FLAG_EMPTY_TEXT if missing else FLAG_NOT_TEXT
    return [] if result.flags == [expected] else [f"flags {result.flags}, expected [{expected}]"]


def _is_probability(value: object) -> bool:
    return isinstance(value, float | int) and 0.0 <= value <= 1.0


@dataclass(slots=True)
class Timing:
    case: str
    chars: int
    seconds: float


@dataclass(slots=True)
class RobustnessReport:
    cases: int
    max_text_chars: int
    repeats: int
    analyze: list[Timing]  # slowest first
    normalize: list[Timing]
    redact: list[Timing]
    median_analyze_s: float
    contract_problems: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def markdown(self, top: int = 5) -> str:
        lines = [
            f"{self.cases} hostile comments, one `analyze` call each, best of {self.repeats} runs "
            f"(texts over {self.max_text_chars:,} characters are analysed from their beginning); "
            f"median {self.median_analyze_s * 1000:.1f} ms; "
            f"contract violations: {sum(map(len, self.contract_problems.values()))}",
            "",
        ]
        rows = [
            (step, timing.case, f"{timing.chars:,}", f"{timing.seconds:.3f}")
            for step, timings in (
                ("`Analyzer.analyze`", self.analyze),
                ("`normalize` (whole text)", self.normalize),
                ("`pii.redact` (whole text)", self.redact),
            )
            for timing in timings[:top]
        ]
        lines.append(markdown_table(["step", "slowest comments", "chars", "seconds"], rows))
        return "\n".join(lines)


def _best_time(step: Callable[[str], object], text: str, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        step(text)
        best = min(best, time.perf_counter() - start)
    return round(best, 4)


def _time_each(
    cases: Sequence[tuple[str, str]], step: Callable[[str], object], repeats: int
) -> list[Timing]:
    timings = [Timing(name, len(text), _best_time(step, text, repeats)) for name, text in cases]
    return sorted(timings, key=lambda timing: -timing.seconds)


def run_robustness(
    analyzer: Analyzer, naughty_file: Path | None = NAUGHTY_STRINGS_FILE, repeats: int = 3
) -> RobustnessReport:
    """Time every hostile case through each step, one comment at a time, and check the contract.

    Each time is the best of ``repeats`` runs: on a shared machine one run can take several
    times longer than the work needs; the best run is the cost of the comment itself.
    """
    naughty = [] if naughty_file is None else load_naughty_strings(naughty_file)
    cases: list[Case] = [*naughty, *generated_cases(), *NOT_TEXT]
    topics = topic_names()
    problems: dict[str, list[str]] = {}
    for name, item in cases:
        found = contract_problems(analyzer.analyze([item])[0], item, topics)
        if found:
            problems[name] = found
    texts = [(name, item) for name, item in cases if isinstance(item, str)]
    analyze_timings = _time_each(texts, lambda text: analyzer.analyze([text]), repeats)
    return RobustnessReport(
        cases=len(cases),
        max_text_chars=MAX_TEXT_CHARS,
        repeats=repeats,
        analyze=analyze_timings,
        normalize=_time_each(texts, Normalizer().normalize, repeats),
        redact=_time_each(texts, redact, repeats),
        median_analyze_s=statistics.median(t.seconds for t in analyze_timings),
        contract_problems=problems,
    )
