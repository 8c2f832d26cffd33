"""The analyser's fast paths answer what the plain paths answer.

The cue trie against the phrase table it is built from, the normaliser's one-word-token path
against a cold normaliser, batches against one comment at a time, and the collector pause.
"""

from __future__ import annotations

import gc
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.analyzer import Analyzer
from nlp.clauses import ClauseLexicon, CueTrie, load_clause_lexicon
from nlp.gc_pause import collector_paused
from nlp.normalize import Normalizer, normalize

COMMENTS = [
    "Nhân viên nhiệt tình, giao hàng nhanh",
    "Đồ ăn ngon nhưng phục vụ chậm quá!!!",
    "nhan vien ko nhiet tinh, cho lau qua",
    "Giá 150k mà chất lượng không hề tệ 😍😍",
    "Phòng đẹp, tuy nhiên hơi ồn. Sẽ quay lại? Không chắc.",
    "Shop vẫn còn hàng không? có ngon đâu mà khen",
    "ok",
]


@pytest.fixture(scope="module")
def clause_lexicon() -> ClauseLexicon:
    return load_clause_lexicon()


def _phrase_words(lexicon: ClauseLexicon) -> list[str]:
    words = {word for phrase in lexicon.cues.phrases for word in phrase.split()}
    words |= {word for phrase in lexicon.unaccented_cues.phrases for word in phrase.split()}
    return sorted(words)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_cue_trie_finds_what_the_phrase_table_finds(
    clause_lexicon: ClauseLexicon, data: st.DataObject
) -> None:
    # Tokens drawn from the lexicon's own words make long and overlapping phrases likely.
    words = st.sampled_from([*_phrase_words(clause_lexicon), "ngon", "xyz", ","])
    tokens = data.draw(st.lists(words, min_size=1, max_size=15))
    for unaccented in (False, True):
        table = clause_lexicon.table(unaccented)
        trie = CueTrie(table)
        for start in range(len(tokens)):
            assert trie.longest_at(tokens, start) == table.longest_at(tokens, start)


def test_cue_trie_on_real_comments(clause_lexicon: ClauseLexicon) -> None:
    for text in [normalize(comment) for comment in COMMENTS]:
        tokens = text.split()
        for unaccented in (False, True):
            table = clause_lexicon.table(unaccented)
            trie = clause_lexicon.trie(unaccented)
            assert [trie.longest_at(tokens, i) for i in range(len(tokens))] == [
                table.longest_at(tokens, i) for i in range(len(tokens))
            ]


def test_warm_normaliser_equals_a_cold_one() -> None:
    texts = [*COMMENTS, "2 k", "ko ko ko", ":) :) :)", "😍😍 😍", "nv 5 củ", "k k"]
    warm = Normalizer()
    warm.normalize_many(texts)  # every token now resolved, most through the one-word path
    assert warm.normalize_many(texts) == [Normalizer().normalize(text) for text in texts]


def test_a_batch_equals_one_comment_at_a_time(analyzer: Analyzer) -> None:
    batch = [result.to_dict() for result in analyzer.analyze(COMMENTS)]
    alone = [analyzer.analyze([comment])[0].to_dict() for comment in COMMENTS]
    assert batch == alone


def test_collector_pause_is_restored_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()


def test_collector_pause_keeps_a_collector_the_process_turned_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_leave_the_collector_on() -> None:
    inside = threading.Event()
    release = threading.Event()

    def paused_batch() -> None:
        with collector_paused():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=paused_batch)
    worker.start()
    inside.wait(10)
    with collector_paused():  # found off: not ours to turn back on
        release.set()
        worker.join(10)
    assert gc.isenabled()
