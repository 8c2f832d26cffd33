"""Clauses and negation-aware polarity cues, for the per-topic polarity of a comment.

A comment such as "đồ ăn ngon nhưng phục vụ chậm quá" holds one judgement per clause. Clauses are
cut at clause punctuation (kept by the normaliser as separate tokens) and before the contrast and
concession markers of ``data/lexicons/negation.tsv`` ("nhưng", "tuy nhiên", "mà", "còn" ...).

Polarity cues come from ``sentiment.tsv`` and the polarity hints of ``topics.tsv``, with the
negators of ``negation.tsv``: a negator flips (or, for hedges such as "không quá", damps) the
next sentiment term within its scope, so "không hề chậm" scores positive. Exceptions ("không
gian", "không những") are matched first, longest match wins, and never negate.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from nlp.normalize import normalize, strip_diacritics
from nlp.paths import lexicon_dir
from nlp.phrases import PhraseTable

PUNCTUATION: Final = frozenset({",", ".", "!", "?", ";", ":"})
#: "còn" is a contrast marker only between two judgements; after these words it means "still"
#: or "left" ("vẫn còn", "không còn"), and before these it is "còn hàng", "còn phòng" (stock).
_CON_NOT_AFTER: Final = frozenset({"không", "chẳng", "vẫn", "cũng", "chưa", "đã", "sẽ", "hết"})
_CON_NOT_BEFORE: Final = frozenset({"hàng", "phòng", "chỗ", "size", "lại", "nữa", "không", "mới"})
#: One-syllable markers too ambiguous to split on without diacritics ("ma", "con", "song").
_UNACCENTED_SKIP: Final = frozenset({"mà", "còn", "song"})
#: Fraction of accented syllables below which a comment counts as typed without diacritics.
#: Not zero: the normaliser's teencode expansion ("ko" -> "không") adds accents of its own.
UNACCENTED_RATIO: Final = 0.2

NEGATION_FILE: Final = "negation.tsv"
SENTIMENT_FILE: Final = "sentiment.tsv"
SIGNS: Final = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}


def is_unaccented(tokens: Sequence[str]) -> bool:
    """True when the comment was (almost all) typed without diacritics."""
    words = list(filter(str.isalpha, tokens))
    if not words:
        return True
    # Every Vietnamese accented letter (and đ) is outside ASCII, and after normalisation a word
    # holds only letters: isascii is the cheap test for "has a diacritic" on the hot path.
    accented = len(words) - sum(map(str.isascii, words))
    return accented / len(words) < UNACCENTED_RATIO


@dataclass(frozen=True, slots=True)
class Cue:
    kind: str  # sentiment / negator / post_negator / exception / intensifier / boundary
    value: float  # sentiment sign * strength, negator weight, intensifier factor
    scope: int = 0


@dataclass(frozen=True, slots=True)
class ClauseLexicon:
    """Phrase tables for clause cutting and polarity cues, read from the lexicon files."""

    cues: PhraseTable[Cue]
    unaccented_cues: PhraseTable[Cue]

    def table(self, unaccented: bool) -> PhraseTable[Cue]:
        return self.unaccented_cues if unaccented else self.cues

    def trie(self, unaccented: bool) -> CueTrie:
        return _trie(self.table(unaccented))


#: A trie node: the cue of the phrase ending here (if any) and the next words.
_Node = tuple[Cue | None, "dict[str, _Node] | None"]


class CueTrie:
    """A phrase table as a word trie, for the clause and cue loops of every comment and clause.

    ``longest_at`` answers what :meth:`PhraseTable.longest_at` answers for tokens without spaces
    (what ``str.split`` gives), walking one dict per word instead of joining and looking up each
    candidate length; the loops below inline its first step, where most tokens stop.
    """

    def __init__(self, table: PhraseTable[Cue]) -> None:
        self.root: dict[str, _Node] = {}
        for phrase, cue in table.phrases.items():
            *path, last = phrase.split(" ")
            children = self.root
            for word in path:
                value, below = children.get(word, (None, None))
                if below is None:
                    below = {}
                    children[word] = (value, below)
                children = below
            _, below = children.get(last, (None, None))
            children[last] = (cue, below)

    def longest_at(self, tokens: Sequence[str], start: int) -> tuple[int, Cue] | None:
        node = self.root.get(tokens[start])
        return None if node is None else _longest(node, tokens, start)


def _longest(node: _Node, tokens: Sequence[str], start: int) -> tuple[int, Cue] | None:
    """The longest phrase from ``start`` whose first word led to ``node``."""
    best = None
    end = start + 1
    n_tokens = len(tokens)
    while True:
        cue, children = node
        if cue is not None:
            best = (end - start, cue)
        if children is None or end >= n_tokens:
            return best
        following = children.get(tokens[end])
        if following is None:
            return best
        node = following
        end += 1


@functools.lru_cache(maxsize=16)
def _trie(table: PhraseTable[Cue]) -> CueTrie:
    # Keyed by the table object (the lexicons pickled in the bundles hold their own tables).
    return CueTrie(table)


def _rows(path: Path) -> list[list[str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("#"):
                continue
            cells = [c.strip() for c in line.rstrip("\n").split("\t")]
            if cells[0] in {"term"}:
                continue
            rows.append(cells)
    return rows


def _float(cells: list[str], index: int, default: float) -> float:
    try:
        return float(cells[index])
    except (IndexError, ValueError):
        return default


def _negation_cue(cells: list[str]) -> Cue | None:
    kind = cells[1] if len(cells) > 1 else ""
    position = cells[2] if len(cells) > 2 else "pre"
    scope = int(_float(cells, 3, 3))
    weight = _float(cells, 4, 1.0)
    note = cells[5] if len(cells) > 5 else ""
    if "[special]" in note:
        return None
    if kind == "negator":
        return Cue("post_negator" if position == "post" else "negator", weight, scope)
    if kind in {"contrast", "concession"}:
        return Cue("boundary", weight)
    if kind == "exception":
        return Cue("exception", 0.0)
    if kind in {"intensifier", "diminisher"} and position in {"pre", "both"}:
        return Cue("intensifier", weight, scope)
    return None


@functools.cache
def load_clause_lexicon(directory: Path | None = None) -> ClauseLexicon:
    from nlp.topic_lexicon import TopicLexicon

    folder = directory or lexicon_dir()
    cues: dict[str, Cue] = {}
    # Topic terms with a polarity hint ("phục vụ chậm", "giá mềm") are sentiment cues too, and
    # go first so the sentiment lexicon's own strengths win on shared terms.
    for entry in TopicLexicon.load().terms:
        if entry.polarity is not None:
            cues[entry.term] = Cue("sentiment", SIGNS[entry.polarity])
    for cells in _rows(folder / SENTIMENT_FILE):
        if len(cells) >= 2 and cells[1] in SIGNS:
            term = normalize(cells[0])
            if term:
                cues[term] = Cue("sentiment", SIGNS[cells[1]] * _float(cells, 2, 1.0))
    for cells in _rows(folder / NEGATION_FILE):
        cue = _negation_cue(cells)
        term = normalize(cells[0])
        if cue is not None and term:
            cues[term] = cue
    unaccented = dict(cues)
    for term, cue in cues.items():
        plain = strip_diacritics(term)
        if plain == term or plain in unaccented or term in _UNACCENTED_SKIP:
            continue
        unaccented[plain] = cue
    return ClauseLexicon(PhraseTable(cues), PhraseTable(unaccented))


def clause_spans(
    tokens: Sequence[str], lexicon: ClauseLexicon, unaccented: bool
) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` of the clauses; punctuation stays with the clause it ends.

    >>> text = "đồ ăn ngon nhưng phục vụ chậm quá".split()
    >>> clause_spans(text, load_clause_lexicon(), False)
    [(0, 3), (3, 8)]
    """
    root = lexicon.trie(unaccented).root
    spans: list[tuple[int, int]] = []
    start = 0
    i = 0
    n_tokens = len(tokens)
    while i < n_tokens:
        token = tokens[i]
        if token in PUNCTUATION:
            if i + 1 > start:
                spans.append((start, i + 1))
            start = i + 1
            i += 1
            continue
        node = root.get(token)
        found = None if node is None else _longest(node, tokens, i)
        if found is not None and found[1].kind == "boundary" and _is_boundary(tokens, i):
            if i > start:
                spans.append((start, i))
            start = i
        i += found[0] if found is not None else 1
    if start < len(tokens):
        spans.append((start, len(tokens)))
    return [(a, b) for a, b in spans if any(t not in PUNCTUATION for t in tokens[a:b])]


def _is_boundary(tokens: Sequence[str], i: int) -> bool:
    if tokens[i] != "còn":
        return True
    before = tokens[i - 1] if i > 0 else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    return before not in _CON_NOT_AFTER and after not in _CON_NOT_BEFORE


#: Names of the columns ``polarity_cues`` returns, in order.
CUE_FEATURES: Final = (
    "positive",
    "negative",
    "negated",
    "question",
    "neutral_phrase",
)


def polarity_cues(
    tokens: Sequence[str], lexicon: ClauseLexicon, unaccented: bool
) -> tuple[list[str], np.ndarray]:
    """Negation-marked tokens (``NEG_`` prefix inside a negator's scope) and cue scores.

    >>> marked, scores = polarity_cues("không hề chậm".split(), load_clause_lexicon(), False)
    >>> marked, bool(scores[0] > 0), bool(scores[1] == 0)
    (['không', 'hề', 'NEG_chậm'], True, True)
    """
    root = lexicon.trie(unaccented).root
    marked = list(tokens)
    positive = negative = negated = neutral = 0.0
    negation_left = 0
    negation_weight = 1.0
    boost = 1.0
    last_sentiment: tuple[int, float] | None = None
    i = 0
    n_tokens = len(tokens)
    while i < n_tokens:
        token = tokens[i]
        if token in PUNCTUATION:
            negation_left, boost = 0, 1.0
            i += 1
            continue
        node = root.get(token)
        found = None if node is None else _longest(node, tokens, i)
        if found is None:
            if negation_left:
                marked[i] = "NEG_" + token
                negation_left -= 1
            i += 1
            continue
        length, cue = found
        kind = cue.kind
        if kind == "negator":
            negation_left, negation_weight = cue.scope, cue.value
        elif kind == "post_negator" and last_sentiment is not None:
            # "có ngon đâu": undo the last sentiment term and count it negated.
            _, value = last_sentiment
            positive, negative = _remove(positive, negative, value)
            positive, negative = _add(positive, negative, value * cue.value)
            negated += 1
            last_sentiment = None
        elif kind == "intensifier":
            boost = cue.value
        elif kind == "sentiment":
            value = cue.value * boost
            if value == 0.0:
                neutral += 1
            if negation_left:
                value *= negation_weight
                negated += 1
                for j in range(i, i + length):
                    marked[j] = "NEG_" + tokens[j]
                negation_left = 0
            positive, negative = _add(positive, negative, value)
            last_sentiment = (i, value)
            boost = 1.0
        elif kind in {"exception", "boundary"}:
            negation_left = 0
        i += length
    question = 1.0 if "?" in tokens else 0.0
    return marked, np.array([positive, negative, negated, question, neutral], dtype=np.float64)


def _add(positive: float, negative: float, value: float) -> tuple[float, float]:
    if value > 0:
        return positive + value, negative
    if value < 0:
        return positive, negative - value
    return positive, negative


def _remove(positive: float, negative: float, value: float) -> tuple[float, float]:
    if value > 0:
        return positive - value, negative
    return positive, negative + value
