"""The corpus loaders, checked on the real shared corpora (skipped when they are absent)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from nlp.corpora import (
    CORPORA,
    LEAKAGE_GROUP,
    CorpusRecord,
    corpus_licence,
    corpus_splits,
    load_corpus,
    load_spam_reviews,
)
from nlp.corpora.records import POLARITIES
from nlp.corpora.templates import strip_templates, template_phrases
from nlp.errors import CorpusNotFoundError, DataError
from nlp.paths import corpora_dir

F = TypeVar("F", bound=Callable[..., None])


def requires_corpora(test: F) -> F:
    """Mark a test as reading the shared corpora, skipped with the reason when they are absent."""
    skip = pytest.mark.skipif(
        not corpora_dir().is_dir(),
        reason=f"shared corpora not found at {corpora_dir()} (set VICX_DATA_DIR)",
    )
    marked: F = pytest.mark.corpora(skip(test))
    return marked


# Measured after template stripping, normalisation and de-duplication; a change in any of
# them should be a deliberate update of this table and of docs/CORPORA.md.
EXPECTED_COUNTS: dict[tuple[str, str], int] = {
    ("uit_vsfc", "train"): 11422,
    ("uit_vsfc", "dev"): 1583,
    ("uit_vsfc", "test"): 3165,
    ("uit_visfd", "train"): 7774,
    ("uit_visfd", "dev"): 1110,
    ("uit_visfd", "test"): 2224,
    ("uit_visd4sa", "train"): 7770,
    ("uit_visd4sa", "dev"): 1111,
    ("uit_visd4sa", "test"): 2225,
    ("vlsp2018_hotel", "train"): 2932,
    ("vlsp2018_hotel", "dev"): 1985,
    ("vlsp2018_hotel", "test"): 600,
    ("vlsp2018_restaurant", "train"): 2919,
    ("vlsp2018_restaurant", "dev"): 1290,
    ("vlsp2018_restaurant", "test"): 500,
    ("vlsp2016_sa", "train"): 5039,
    ("vlsp2016_sa", "test"): 1050,
    ("aivivn2019", "train"): 15451,
    ("tiki_fashion_absa", "train"): 3623,
    ("tiki_fashion_absa", "dev"): 453,
    ("tiki_fashion_absa", "test"): 454,
    ("shopee_lipstick_absa", "train"): 12663,
    ("shopee_lipstick_absa", "dev"): 1578,
    ("shopee_lipstick_absa", "test"): 1602,
    ("vispamreviews", "train"): 10505,
    ("vispamreviews", "dev"): 1157,
    ("vispamreviews", "test"): 2861,
}

SPLITS = [(name, split) for name in CORPORA for split in corpus_splits(name)]
HAS_SENTIMENT = {"uit_vsfc", "vlsp2016_sa", "aivivn2019"}
HAS_STARS = {"uit_visfd", "vispamreviews"}
HAS_ASPECTS = set(CORPORA) - {"vlsp2016_sa", "aivivn2019", "vispamreviews"}


def _by_split(name: str) -> dict[str, list[CorpusRecord]]:
    return {split: load_corpus(name, split) for split in corpus_splits(name)}


@requires_corpora
@pytest.mark.parametrize(("name", "split"), SPLITS)
def test_split_count_is_the_measured_one(name: str, split: str) -> None:
    assert len(load_corpus(name, split)) == EXPECTED_COUNTS[(name, split)]


@requires_corpora
@pytest.mark.parametrize("name", CORPORA)
def test_labels_are_in_the_allowed_sets(name: str) -> None:
    for split, records in _by_split(name).items():
        for record in records:
            assert record.corpus == name
            assert record.split == split
            assert record.text
            assert record.raw == record.raw.strip()
            assert (record.sentiment is not None) == (name in HAS_SENTIMENT)
            assert record.sentiment is None or record.sentiment in POLARITIES
            assert (record.stars is not None) == (name in HAS_STARS)
            assert record.stars is None or 1 <= record.stars <= 5
            assert all(a.polarity is None or a.polarity in POLARITIES for a in record.aspects)
        if name in HAS_ASPECTS:
            assert any(record.aspects for record in records)


@requires_corpora
@pytest.mark.parametrize("name", CORPORA)
def test_no_text_is_shared_between_splits_or_repeated(name: str) -> None:
    splits = _by_split(name)
    texts = {split: [record.text for record in records] for split, records in splits.items()}
    for split, values in texts.items():
        assert len(values) == len(set(values)), split
    names = list(texts)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            assert not set(texts[first]) & set(texts[second]), (first, second)


@requires_corpora
def test_aivivn_zero_means_positive() -> None:
    by_id = {record.meta["id"]: record for record in load_corpus("aivivn2019", "train")}
    assert by_id["train_000001"].sentiment == "positive"  # label 0: "Son mịn ..."
    assert by_id["train_000003"].sentiment == "negative"  # label 1: "Mình hơi thất vọng ..."
    assert by_id["train_000003"].raw.startswith(":(( Mình hơi thất vọng")


@requires_corpora
def test_sentiment_codes_of_vsfc_and_vlsp2016() -> None:
    vsfc = load_corpus("uit_vsfc", "train")[:3]  # SOURCE.md examples: 2, 2, 0
    assert [record.sentiment for record in vsfc] == ["positive", "positive", "negative"]
    assert vsfc[0].aspects[0].label == "training_program"
    vlsp = load_corpus("vlsp2016_sa", "train")[0]  # SOURCE.md example: -1
    assert vlsp.sentiment == "negative"
    assert vlsp.raw.startswith("Mình đã dùng anywhere")


@requires_corpora
def test_visd4sa_spans_lie_inside_the_raw_text() -> None:
    dropped = 0
    for split in corpus_splits("uit_visd4sa"):
        for record in load_corpus("uit_visd4sa", split):
            for aspect in record.aspects:
                if aspect.span is None:
                    dropped += 1
                    continue
                start, end = aspect.span
                assert 0 <= start < end <= len(record.raw)
    assert dropped == 121  # SOURCE.md: 122 bad spans; one sits in a conflicting duplicate


@requires_corpora
def test_visd4sa_first_span_points_at_the_battery_phrase() -> None:
    first = load_corpus("uit_visd4sa", "train")[0]
    start, end = first.aspects[0].span or (0, 0)
    assert first.aspects[0].label == "BATTERY"
    assert first.raw[start:end].startswith("Pin Sài tầm 50h")


@requires_corpora
def test_templates_are_stripped_from_text_but_kept_in_raw() -> None:
    first = next(r for r in load_corpus("aivivn2019", "train") if r.meta["id"] == "train_000000")
    assert "Chất lượng sản phẩm tuyệt vời" in first.raw
    assert "chất lượng sản phẩm tuyệt vời" not in first.text.lower()
    assert "đóng gói sản phẩm rất đẹp" not in first.text.lower()
    kept = load_corpus("aivivn2019", "train", strip_templates=False)
    unstripped = next(r for r in kept if r.meta["id"] == "train_000000")
    assert "chất lượng sản phẩm tuyệt vời" in unstripped.text.lower()


@requires_corpora
@pytest.mark.parametrize("name", ["aivivn2019", "shopee_lipstick_absa", "vispamreviews"])
def test_no_template_phrase_survives_stripping(name: str) -> None:
    # Whole phrases only: "nhận xuuu" is a user's own spelling, not the template.
    phrases = [re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.I) for p in template_phrases()]
    for record in load_corpus(name, corpus_splits(name)[0]):
        stripped = re.sub(r"\s+", " ", strip_templates(record.raw))
        assert not any(phrase.search(stripped) for phrase in phrases), record.raw


@requires_corpora
def test_vispamreviews_keeps_only_non_spam_unless_asked() -> None:
    assert {record.meta["spam"] for record in load_corpus("vispamreviews", "train")} == {"0"}
    with_spam = load_spam_reviews("train")
    assert {record.meta["spam"] for record in with_spam} == {"0", "1"}
    assert {record.meta["spam_type"] for record in with_spam} >= {"no_spam", "irrelevant"}


@requires_corpora
def test_tiki_text_has_no_segmentation_underscores() -> None:
    records = load_corpus("tiki_fashion_absa", "train")
    assert any("_" in record.raw for record in records)
    assert not any("_" in record.text for record in records)
    assert all(record.stars is None for record in records)


@requires_corpora
def test_loads_are_cached_but_callers_get_their_own_list() -> None:
    first = load_corpus("uit_vsfc", "dev")
    first.clear()
    assert load_corpus("uit_vsfc", "dev")


# These need no corpora.


def test_every_corpus_has_splits_a_licence_and_a_leakage_group() -> None:
    assert set(LEAKAGE_GROUP) == set(CORPORA)
    assert LEAKAGE_GROUP["uit_visfd"] == LEAKAGE_GROUP["uit_visd4sa"]
    assert len(set(LEAKAGE_GROUP.values())) == len(CORPORA) - 1
    for name in CORPORA:
        assert corpus_splits(name)[-1] in {"train", "test"}
        assert corpus_licence(name)
    assert corpus_splits("aivivn2019") == ("train",)
    assert corpus_splits("vlsp2016_sa") == ("train", "test")


def test_missing_data_dir_names_the_path_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match="VICX_DATA_DIR") as raised:
        load_corpus("uit_vsfc", "train", data_dir=tmp_path / "nowhere")
    assert "nowhere" in str(raised.value)


def test_missing_file_names_the_path_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match="VICX_DATA_DIR") as raised:
        load_corpus("uit_visfd", "test", data_dir=tmp_path)
    assert "uit_visfd" in str(raised.value)


def test_unknown_names_list_the_valid_options() -> None:
    with pytest.raises(CorpusNotFoundError, match="uit_vsfc"):
        load_corpus("imdb", "train")
    with pytest.raises(DataError, match="train"):
        load_corpus("aivivn2019", "test")


def test_template_stripping_handles_case_wrapping_and_punctuation() -> None:
    assert strip_templates("Chất lượng sản phẩm tuyệt vời. Son mịn") == "Son mịn"
    assert strip_templates("son ok.\nĐÓNG GÓI SẢN PHẨM RẤT ĐẸP\nVÀ CHẮC CHẮN") == "son ok."
    assert strip_templates("Rất đáng tiền, Thời gian giao hàng rất nhanh!") == ""
    assert strip_templates("không đáng tiền lắm") == "không đáng tiền lắm"
