"""The cached hashers give scikit-learn's HashingVectorizer counts bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer

from nlp.analyzer import Analyzer
from nlp.hashing import CharNgramHasher, WordNgramHasher
from nlp.normalize import normalize

COMMENTS = [
    "Nhân viên nhiệt tình, giao hàng nhanh",
    "Đồ ăn ngon nhưng phục vụ chậm quá!!!",
    "nhan vien ko nhiet tinh, cho lau qua",
    "Giá 150k mà chất lượng không hề tệ 😍😍",
    "ok",
    "Phòng đẹp, tuy nhiên hơi ồn. Sẽ quay lại? Không chắc.",
    "sp ok ok ok ok, ship nhanh nhanh",
    "Quán không còn ngon như trước",
]
TEXTS = [normalize(text) for text in COMMENTS] + ["", "a", "a a a", "<money> , <emo_pos>"]

#: Words that collide in n-grams and in prefixes, accented and not, and one that is NEG_-marked.
WORDS = st.sampled_from(
    ["ngon", "ngọn", "không", "khong", "hề", "chậm", "a", "ăn", ",", "?", "NEG_chậm", "x" * 12]
)
TOKEN_LISTS = st.lists(st.lists(WORDS, max_size=12), min_size=1, max_size=30)


def _assert_same(actual: sp.csr_matrix, expected: sp.csr_matrix) -> None:
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual.indptr, expected.indptr)
    np.testing.assert_array_equal(actual.indices, expected.indices)
    np.testing.assert_array_equal(actual.data, expected.data)


def _word_vectorizer(n_features: int, ngram_range: tuple[int, int]) -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="word",
        tokenizer=str.split,
        token_pattern=None,
        ngram_range=ngram_range,
        lowercase=False,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _char_vectorizer(n_features: int, ngram_range: tuple[int, int]) -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=ngram_range,
        lowercase=False,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
def test_word_counts_equal_hashing_vectorizer(ngram_range: tuple[int, int]) -> None:
    hasher = WordNgramHasher(2**18, ngram_range)
    expected = _word_vectorizer(2**18, ngram_range).transform(TEXTS)
    tokens = [text.split() for text in TEXTS]
    _assert_same(hasher.counts(tokens), expected)
    _assert_same(hasher.counts(tokens), expected)  # again, from the warm cache


def test_char_counts_equal_hashing_vectorizer() -> None:
    hasher = CharNgramHasher(2**18, (3, 5))
    expected = _char_vectorizer(2**18, (3, 5)).transform(TEXTS)
    tokens = [text.split() for text in TEXTS]
    _assert_same(hasher.counts(tokens), expected)
    _assert_same(hasher.counts(tokens), expected)


@settings(max_examples=40, deadline=None)
@given(token_lists=TOKEN_LISTS)
def test_small_blocks_and_cache_resets_change_nothing(token_lists: list[list[str]]) -> None:
    # Tiny blocks and bounds make every call cross blocks and restart the caches midway.
    texts = [" ".join(tokens) for tokens in token_lists]
    words = WordNgramHasher(2**10, (1, 2), block=3, max_tokens=4, max_pairs=5)
    chars = CharNgramHasher(2**10, (2, 4), block=3, max_tokens=4)
    for _ in range(2):
        _assert_same(words.counts(token_lists), _word_vectorizer(2**10, (1, 2)).transform(texts))
        _assert_same(chars.counts(token_lists), _char_vectorizer(2**10, (2, 4)).transform(texts))


def test_shipped_featurizer_counts_equal_its_vectorizers(analyzer: Analyzer) -> None:
    featurizer = analyzer.features.model
    tokens = [text.split() for text in TEXTS]
    cached = featurizer._counts(TEXTS, tokens)
    reference = featurizer._counts(TEXTS, None)  # scikit-learn's own vectorisers
    for actual, expected in zip(cached, reference, strict=True):
        _assert_same(actual, expected)


def test_unsupported_word_ngrams_are_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and 2"):
        WordNgramHasher(2**10, (1, 3))
