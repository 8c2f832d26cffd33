"""The 7P keyword lexicon (``data/lexicons/topics.tsv``) matched over normalised text.

Matching walks the tokens once and looks token n-grams up in a dict, longest match first, so a
comment costs a few dict lookups per token whatever the lexicon size. Terms are normalised with
the same normaliser as the comments, so teencode in the lexicon ("sp") meets its expansion.

Unaccented spellings: a comment typed without diacritics ("nhan vien cham") must still match.
Every term also matches in its unaccented form, except terms tagged ``[accented_only]``, with one
restriction: a one-syllable unaccented form ("cham", "gia", "phi") matches only when the whole
comment carries no diacritic at all, because in accented text such a bare syllable is usually
another word ("giá" vs "gia đình", "chậm" vs "chấm"). Multi-syllable unaccented forms ("nhan
vien", "giao hang") are distinctive enough to match anywhere.

>>> lexicon = TopicLexicon.load()
>>> [(m.topic, m.surface) for m in lexicon.match("phục vụ chậm quá")][:1]
[('process', 'phục vụ chậm')]
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import scipy.sparse as sp

from nlp.errors import DataError
from nlp.normalize import has_diacritics, normalize, strip_diacritics
from nlp.paths import lexicon_dir
from nlp.result import SENTIMENTS

TOPIC_LEXICON_FILE: Final = "topics.tsv"


@dataclass(frozen=True, slots=True)
class LexiconTerm:
    """One row of topics.tsv, its term already normalised."""

    term: str
    topic: str
    polarity: str | None
    weak: bool
    ambiguous: bool
    accented_only: bool


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A lexicon term found in a comment, at token positions ``[start, end)``."""

    topic: str
    term: str  # the lexicon's (accented) form, shared by every spelling that matched it
    surface: str  # the tokens as the comment wrote them
    start: int
    end: int
    polarity: str | None
    weak: bool
    term_id: int


def _tags(note: str) -> set[str]:
    return {tag for tag in ("weak", "ambiguous", "accented_only", "special") if f"[{tag}]" in note}


def read_lexicon(path: Path, topics: Sequence[str]) -> list[LexiconTerm]:
    """Rows of a topics.tsv file; an unknown topic or polarity fails with its line number."""
    terms: list[LexiconTerm] = []
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith("#") or line.startswith("term\t"):
                continue
            cells = line.rstrip("\n").split("\t")
            if len(cells) < 2:
                raise DataError(f"{path.name}:{number}: expected term<TAB>topic", path=str(path))
            raw_term, topic = cells[0].strip(), cells[1].strip()
            hint = cells[2].strip() if len(cells) > 2 else ""
            tags = _tags(cells[3] if len(cells) > 3 else "")
            if topic not in topics:
                raise DataError(
                    f"{path.name}:{number}: unknown topic {topic!r}; valid: {', '.join(topics)}",
                    path=str(path),
                )
            if hint and hint not in SENTIMENTS:
                raise DataError(
                    f"{path.name}:{number}: polarity_hint {hint!r} not in {SENTIMENTS}",
                    path=str(path),
                )
            # Placeholders such as <money> survive normalisation unchanged.
            term = normalize(raw_term)
            if not term or (term, topic) in seen:
                continue
            seen.add((term, topic))
            terms.append(
                LexiconTerm(
                    term=term,
                    topic=topic,
                    polarity=hint or None,
                    weak="weak" in tags,
                    ambiguous="ambiguous" in tags,
                    accented_only="accented_only" in tags,
                )
            )
    return terms


class TopicLexicon:
    """Find lexicon terms in normalised text; also turns matches into sparse features.

    Feature columns: one per distinct term (every spelling of a term shares its column), then per
    topic the number of strong matches and the number of weak ones.
    """

    def __init__(self, terms: Iterable[LexiconTerm], topics: Sequence[str]) -> None:
        self.topics = tuple(topics)
        self.terms = tuple(terms)
        self._topic_index = {name: i for i, name in enumerate(self.topics)}
        term_ids: dict[str, int] = {}
        for entry in self.terms:
            term_ids.setdefault(entry.term, len(term_ids))
        self.term_ids = term_ids
        # key (space-joined tokens) -> entries; three tables by when the key may match.
        self._exact: dict[str, list[LexiconTerm]] = {}
        self._loose: dict[str, list[LexiconTerm]] = {}
        self._bare: dict[str, list[LexiconTerm]] = {}
        for entry in self.terms:
            self._exact.setdefault(entry.term, []).append(entry)
        for entry in self.terms:
            plain = strip_diacritics(entry.term)
            if entry.accented_only or plain == entry.term or plain in self._exact:
                continue
            table = self._loose if " " in plain else self._bare
            table.setdefault(plain, []).append(entry)
        # First token -> the longest key starting with it: most positions try one or two lengths.
        self._longest: dict[str, int] = {}
        for key in [*self._exact, *self._loose, *self._bare]:
            words = key.split()
            self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))

    @classmethod
    def load(cls, path: Path | None = None, topics: Sequence[str] | None = None) -> TopicLexicon:
        from nlp.taxonomy import topic_names

        names = tuple(topics) if topics is not None else topic_names()
        return _cached_lexicon((path or lexicon_dir() / TOPIC_LEXICON_FILE).resolve(), names)

    @property
    def n_features(self) -> int:
        return len(self.term_ids) + 2 * len(self.topics)

    def match_tokens(self, tokens: Sequence[str], unaccented: bool) -> list[TopicMatch]:
        """Leftmost-longest, non-overlapping matches over ``tokens``."""
        matches: list[TopicMatch] = []
        longest, exact, loose, bare = self._longest, self._exact, self._loose, self._bare
        n_tokens = len(tokens)
        i = 0
        while i < n_tokens:
            max_length = longest.get(tokens[i])
            if max_length is None:
                i += 1
                continue
            found: list[LexiconTerm] | None = None
            length = 0
            for length in range(min(max_length, n_tokens - i), 0, -1):
                key = " ".join(tokens[i : i + length])
                found = exact.get(key) or loose.get(key)
                if found is None and unaccented:
                    found = bare.get(key)
                if found:
                    break
            if not found:
                i += 1
                continue
            surface = " ".join(tokens[i : i + length])
            for entry in found:
                matches.append(
                    TopicMatch(
                        topic=entry.topic,
                        term=entry.term,
                        surface=surface,
                        start=i,
                        end=i + length,
                        polarity=entry.polarity,
                        weak=entry.weak,
                        term_id=self.term_ids[entry.term],
                    )
                )
            i += length
        return matches

    def match(self, normalised: str) -> list[TopicMatch]:
        """Matches in one normalised comment.

        >>> lexicon = TopicLexicon.load()
        >>> sorted({m.topic for m in lexicon.match("nhan vien cham")})
        ['people', 'process']
        """
        return self.match_tokens(normalised.split(), not has_diacritics(normalised))

    def features(self, matches_per_text: Sequence[Sequence[TopicMatch]]) -> sp.csr_matrix:
        """Sparse lexicon features, one row per text, from already computed matches."""
        n_terms = len(self.term_ids)
        n_topics = len(self.topics)
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, matches in enumerate(matches_per_text):
            strong = [0] * n_topics
            weak = [0] * n_topics
            for match in matches:
                rows.append(row)
                cols.append(match.term_id)
                values.append(1.0)
                topic = self._topic_index[match.topic]
                if match.weak:
                    weak[topic] += 1
                else:
                    strong[topic] += 1
            for topic in range(n_topics):
                # log1p keeps a comment that repeats a term from dominating the linear model.
                if strong[topic]:
                    rows.append(row)
                    cols.append(n_terms + topic)
                    values.append(float(np.log1p(strong[topic])))
                if weak[topic]:
                    rows.append(row)
                    cols.append(n_terms + n_topics + topic)
                    values.append(float(np.log1p(weak[topic])))
        return sp.csr_matrix(
            (np.asarray(values, dtype=np.float32), (rows, cols)),
            shape=(len(matches_per_text), self.n_features),
        )


@functools.cache
def _cached_lexicon(path: Path, topics: tuple[str, ...]) -> TopicLexicon:
    return TopicLexicon(read_lexicon(path, topics), topics)
