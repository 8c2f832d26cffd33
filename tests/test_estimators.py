"""The featuriser and the sentiment head follow scikit-learn's estimator contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from nlp.features import TextFeaturizer
from nlp.normalize import normalize
from nlp.result import SENTIMENTS
from nlp.sentiment import SentimentHead
from tests.conftest import TINY_TRAINING

TEXTS = [normalize(t) for t, _ in TINY_TRAINING] * 2
LABELS = [label for _, label in TINY_TRAINING] * 2


@pytest.fixture(scope="module")
def featurizer() -> TextFeaturizer:
    return TextFeaturizer(word_features=2**12, char_features=2**12, negation_features=2**10).fit(
        TEXTS
    )


def test_featurizer_params_are_stored_as_given() -> None:
    params = {
        "word_ngrams": (1, 2),
        "char_ngrams": (2, 4),
        "word_features": 64,
        "tokenizer": "syllable",
    }
    stored = TextFeaturizer(**params).get_params()
    assert {name: stored[name] for name in params} == params
    assert clone(TextFeaturizer(**params)).get_params()["char_ngrams"] == (2, 4)


def test_featurizer_is_deterministic_and_l2_normalised(featurizer: TextFeaturizer) -> None:
    first = featurizer.transform(["phục vụ chậm quá"])
    second = pickle.loads(pickle.dumps(featurizer)).transform(["phục vụ chậm quá"])
    assert first.shape == (1, featurizer.n_features)
    assert (first != second).nnz == 0
    ngrams = first[:, : 2**13]
    assert np.isclose(np.sqrt(ngrams.multiply(ngrams).sum()), 1.0)


def test_polarity_view_marks_negated_words_and_scores_cues(featurizer: TextFeaturizer) -> None:
    plain, negated = featurizer.transform(["phục vụ chậm", "phục vụ không hề chậm"])
    polarity_start = 2**13
    # Only the negated comment has hashed NEG_ words; both carry lexicon cue scores.
    assert plain[:, polarity_start:-5].nnz == 0
    assert negated[:, polarity_start:-5].nnz > 0
    cues = negated[:, -5:].toarray().ravel()
    assert cues[0] > 0  # "không hề chậm" counts as positive once negated


def test_featurizer_empty_text_gives_an_empty_row(featurizer: TextFeaturizer) -> None:
    assert featurizer.transform([""]).nnz == 0


def test_featurizer_underthesea_view_joins_compounds() -> None:
    syllable = TextFeaturizer(word_ngrams=(1, 1), char_ngrams=(3, 3), word_features=2**16)
    segmented = clone(syllable).set_params(tokenizer="underthesea")
    texts = ["nhân viên phục vụ chậm"]
    a = syllable.fit(texts).transform(texts)
    b = segmented.fit(texts).transform(texts)
    # Segmentation merges 'nhân viên' and 'phục vụ': fewer word columns are active.
    assert b[:, : 2**16].nnz < a[:, : 2**16].nnz


def test_head_probabilities_are_ordered_and_sum_to_one(featurizer: TextFeaturizer) -> None:
    head = SentimentHead(calibration_folds=2).fit(featurizer.transform(TEXTS), LABELS)
    probabilities = head.predict_proba(featurizer.transform(TEXTS[:5]))
    assert probabilities.shape == (5, 3)
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert list(head.classes_) == list(SENTIMENTS)
    assert set(head.predict(featurizer.transform(TEXTS))) <= set(SENTIMENTS)


def test_neutral_bias_raises_neutral_probability(featurizer: TextFeaturizer) -> None:
    head = SentimentHead(calibration_folds=2).fit(featurizer.transform(TEXTS), LABELS)
    matrix = featurizer.transform(TEXTS)
    before = head.predict_proba(matrix)[:, 1]
    head.set_params(neutral_bias=1.0)
    after = head.predict_proba(matrix)[:, 1]
    assert np.all(after > before)


def test_head_clone_pickle_and_unknown_labels(featurizer: TextFeaturizer) -> None:
    head = SentimentHead(C=0.5, calibration_folds=2)
    assert clone(head).get_params() == head.get_params()
    fitted = head.fit(featurizer.transform(TEXTS), LABELS)
    restored = pickle.loads(pickle.dumps(fitted))
    matrix = featurizer.transform(TEXTS[:3])
    assert np.allclose(restored.predict_proba(matrix), fitted.predict_proba(matrix))
    with pytest.raises(ValueError, match="Unknown sentiment labels"):
        SentimentHead().fit(featurizer.transform(TEXTS[:2]), ["good", "bad"])
