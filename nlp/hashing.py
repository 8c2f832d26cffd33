"""Hashed n-gram counts equal to scikit-learn's ``HashingVectorizer``, built from per-token caches.

scikit-learn builds and hashes every n-gram string of every text in Python, which was most of the
analyser's time (comments, then their clauses). A text's counts are a sum over its units, though:
a word n-gram hashes to the same column wherever it occurs, and ``char_wb`` n-grams never cross a
space, so a text's character counts are the sum of its words' counts. The hashers below keep the
columns scikit-learn's own hasher gives each distinct token (and token pair) and assemble a
batch's count matrix with numpy. The result is the canonical CSR matrix ``HashingVectorizer``
returns with ``norm=None``, bit for bit (``tests/test_hashing.py`` checks it).

Supported configuration, the one the shipped features use: texts already split on whitespace,
``lowercase=False``, no stop words, ``alternate_sign=False``, float32 counts, word n-grams up to
bigrams.
"""

from __future__ import annotations

import functools
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from itertools import chain, repeat
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

IntArray = npt.NDArray[np.int64]
#: Texts per assembled block: the caches are bounded between blocks, so one huge call (a
#: training set) cannot grow them without limit.
BLOCK: Final = 4096
#: Bounds on the caches, a few tens of MB at most; past one, a cache starts again empty. Real
#: feedback stays far below them (20,000 bench comments hold 11,000 distinct tokens).
MAX_TOKENS: Final = 2**16
MAX_PAIRS: Final = 2**19
_PAIR_SHIFT: Final = 32
_LOW_BITS: Final = (1 << _PAIR_SHIFT) - 1


def hashed_columns(strings: Sequence[str], n_features: int) -> IntArray:
    """The column scikit-learn's hasher gives each string, as HashingVectorizer uses it."""
    hasher = FeatureHasher(
        n_features=n_features, input_type="string", alternate_sign=False, dtype=np.float32
    )
    matrix = hasher.transform([[string] for string in strings])
    if matrix.nnz != len(strings):
        raise AssertionError("one hashed column per string expected")
    return np.asarray(matrix.indices, dtype=np.int64)


def _canonical(
    data: npt.NDArray[np.float32], indices: IntArray, indptr: IntArray, n_features: int
) -> sp.csr_matrix:
    """What FeatureHasher returns: duplicates summed, indices sorted."""
    matrix = sp.csr_matrix(
        (data, indices.astype(np.int32), indptr.astype(np.int32)),
        shape=(len(indptr) - 1, n_features),
    )
    matrix.sum_duplicates()
    return matrix


class _CachedHasher(ABC):
    """Token ids and the per-token caches keyed by them, bounded, built under a lock."""

    def __init__(self, n_features: int, block: int, max_tokens: int) -> None:
        self.n_features = n_features
        self.block = block
        self.max_tokens = max_tokens
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._ids: dict[str, int] = {}
        self._tokens: list[str] = []

    def _full(self) -> bool:
        return len(self._tokens) > self.max_tokens

    def counts(self, token_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Rows as the matching ``HashingVectorizer`` counts the space-joined tokens."""
        with self._lock:
            blocks = []
            for start in range(0, len(token_lists), self.block):
                if self._full():
                    self._clear()
                block = token_lists[start : start + self.block]
                lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
                flat = list(chain.from_iterable(block))
                blocks.append(self._block(self._lookup(flat), lengths))
        if not blocks:
            return sp.csr_matrix((len(token_lists), self.n_features), dtype=np.float32)
        if len(blocks) == 1:
            return blocks[0]
        stacked: sp.csr_matrix = sp.vstack(blocks, format="csr")
        return stacked

    def _lookup(self, flat: list[str]) -> IntArray:
        """Ids of the tokens; unseen ones get the next ids and their cache entries."""
        known = self._ids
        ids = np.fromiter(map(known.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        missing = np.flatnonzero(ids < 0).tolist()
        if missing:
            new = list(dict.fromkeys(flat[i] for i in missing))
            first = len(self._tokens)
            known.update(zip(new, range(first, first + len(new)), strict=True))
            self._tokens.extend(new)
            self._add_tokens(new)
            ids[missing] = [known[flat[i]] for i in missing]
        return ids

    @abstractmethod
    def _add_tokens(self, new: list[str]) -> None:
        """Extend the per-token caches with the tokens just given the next ids."""

    @abstractmethod
    def _block(self, ids: IntArray, lengths: IntArray) -> sp.csr_matrix:
        """The counts of texts given as token ids (flat) and tokens per text."""


class WordNgramHasher(_CachedHasher):
    """Word uni- and/or bigram counts in ``n_features`` hashed columns."""

    def __init__(
        self,
        n_features: int,
        ngram_range: tuple[int, int],
        *,
        block: int = BLOCK,
        max_tokens: int = MAX_TOKENS,
        max_pairs: int = MAX_PAIRS,
    ) -> None:
        low, high = ngram_range
        if not 1 <= low <= high <= 2:
            raise ValueError(f"word n-grams between 1 and 2 supported, got {ngram_range}")
        self.ngram_range = ngram_range
        self.max_pairs = max_pairs
        super().__init__(n_features, block, max_tokens)

    def _clear(self) -> None:
        super()._clear()
        self._columns: IntArray = np.zeros(0, dtype=np.int64)
        # Token-id pairs (first << 32 | second), sorted, and their bigram columns: a batch looks
        # its pairs up with one searchsorted instead of a dict lookup per pair.
        self._pair_keys: IntArray = np.zeros(0, dtype=np.int64)
        self._pair_values: IntArray = np.zeros(0, dtype=np.int64)

    def _full(self) -> bool:
        return super()._full() or len(self._pair_keys) > self.max_pairs

    def _add_tokens(self, new: list[str]) -> None:
        self._columns = np.concatenate([self._columns, hashed_columns(new, self.n_features)])

    def _block(self, ids: IntArray, lengths: IntArray) -> sp.csr_matrix:
        low, high = self.ngram_range
        # Slot 2p holds the unigram at token p, slot 2p+1 the bigram starting there (-1: none).
        slots = np.full((len(ids), 2), -1, dtype=np.int64)
        if low == 1:
            slots[:, 0] = self._columns[ids]
        if high == 2 and len(ids) > 1:
            has_next = np.ones(len(ids), dtype=bool)
            has_next[np.cumsum(lengths)[lengths > 0] - 1] = False
            starts = np.flatnonzero(has_next)
            slots[starts, 1] = self._pair_columns(ids[starts], ids[starts + 1])
        present = slots >= 0
        indptr = _text_offsets(present.sum(axis=1), lengths)
        columns = slots[present]
        return _canonical(np.ones(len(columns), np.float32), columns, indptr, self.n_features)

    def _pair_columns(self, first: IntArray, second: IntArray) -> IntArray:
        # Sorted queries make searchsorted walk the table once instead of jumping around it.
        unique, inverse = np.unique((first << _PAIR_SHIFT) | second, return_inverse=True)
        at = np.asarray(np.searchsorted(self._pair_keys, unique), dtype=np.int64)
        found: npt.NDArray[np.bool_] = at < len(self._pair_keys)
        found[found] = self._pair_keys[at[found]] == unique[found]
        if not found.all():
            new_keys = unique[~found]
            tokens = self._tokens
            strings = [
                f"{tokens[key >> _PAIR_SHIFT]} {tokens[key & _LOW_BITS]}"
                for key in new_keys.tolist()
            ]
            self._pair_keys = np.insert(self._pair_keys, at[~found], new_keys)
            self._pair_values = np.insert(
                self._pair_values, at[~found], hashed_columns(strings, self.n_features)
            )
            at = np.asarray(np.searchsorted(self._pair_keys, unique), dtype=np.int64)
        result: IntArray = self._pair_values[at][inverse]
        return result


def char_wb_vectorizer(n_features: int, ngram_range: tuple[int, int]) -> HashingVectorizer:
    """The features' character view as scikit-learn computes it: ``char_wb`` n-gram counts.

    norm=None and alternate_sign=False: TF-IDF and the final L2 norm are applied afterwards, and
    signed hashing would let colliding n-grams cancel each other's counts. The cache below
    builds its per-word rows with it, so the two cannot drift apart.
    """
    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=ngram_range,
        lowercase=False,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


class CharNgramHasher(_CachedHasher):
    """``char_wb`` n-gram counts: the sum of each word's counts, cached per word."""

    def __init__(
        self,
        n_features: int,
        ngram_range: tuple[int, int],
        *,
        block: int = BLOCK,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.ngram_range = ngram_range
        self._vectorizer = char_wb_vectorizer(n_features, ngram_range)
        super().__init__(n_features, block, max_tokens)

    def _clear(self) -> None:
        super()._clear()
        # Token id -> its slice of _columns/_weights (the token's own canonical row).
        self._starts: IntArray = np.zeros(0, dtype=np.int64)
        self._lengths: IntArray = np.zeros(0, dtype=np.int64)
        self._columns: IntArray = np.zeros(0, dtype=np.int64)
        self._weights: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)

    def _add_tokens(self, new: list[str]) -> None:
        rows = self._vectorizer.transform(new)
        self._starts = np.concatenate(
            [self._starts, len(self._columns) + rows.indptr[:-1].astype(np.int64)]
        )
        self._lengths = np.concatenate([self._lengths, np.diff(rows.indptr).astype(np.int64)])
        self._columns = np.concatenate([self._columns, rows.indices.astype(np.int64)])
        self._weights = np.concatenate([self._weights, rows.data.astype(np.float32)])

    def _block(self, ids: IntArray, lengths: IntArray) -> sp.csr_matrix:
        spans = self._lengths[ids]
        # Gather each token's slice: position k of token t reads _columns[_starts[t] + k].
        offsets = np.cumsum(spans) - spans
        positions = np.arange(int(spans.sum()), dtype=np.int64) + np.repeat(
            self._starts[ids] - offsets, spans
        )
        return _canonical(
            self._weights[positions],
            self._columns[positions],
            _text_offsets(spans, lengths),
            self.n_features,
        )


def _text_offsets(per_token: IntArray, lengths: IntArray) -> IntArray:
    """CSR ``indptr`` from entries per token and tokens per text."""
    by_token = np.concatenate([[0], np.cumsum(per_token)])
    offsets: IntArray = by_token[np.concatenate([[0], np.cumsum(lengths)])]
    return offsets


@functools.cache
def word_hasher(n_features: int, ngram_range: tuple[int, int]) -> WordNgramHasher:
    """The process-wide word hasher (and its cache) for this configuration."""
    return WordNgramHasher(n_features, ngram_range)


@functools.cache
def char_hasher(n_features: int, ngram_range: tuple[int, int]) -> CharNgramHasher:
    """The process-wide ``char_wb`` hasher (and its cache) for this configuration."""
    return CharNgramHasher(n_features, ngram_range)
