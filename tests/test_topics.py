"""The 7P topic head: taxonomy, lexicon, clauses, negation, mapping, estimators, Analyzer."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from nlp.analyzer import Analyzer
from nlp.aspect_mapping import NO_TOPIC, UNRESOLVED, load_mapping, map_record
from nlp.clauses import clause_spans, is_unaccented, load_clause_lexicon, polarity_cues
from nlp.corpora import Aspect, CorpusRecord
from nlp.errors import DataError
from nlp.features import TextFeaturizer
from nlp.heads import SentimentContext
from nlp.labelled import TOPICS
from nlp.normalize import normalize, strip_diacritics
from nlp.paths import models_dir
from nlp.result import SENTIMENTS
from nlp.taxonomy import load_taxonomy, topic_names
from nlp.topic_evaluation import analyzer_topics, score_topics
from nlp.topic_lexicon import TopicLexicon
from nlp.topic_polarity import ClausePolarityModel, PolarityStacker
from nlp.topics import TopicClassifier
from nlp.training.topics import fold_assignment, thresholds_from

HAS_TOPICS_BUNDLE = (models_dir() / "topics" / "manifest.json").is_file()
requires_topics_bundle = pytest.mark.skipif(
    not HAS_TOPICS_BUNDLE, reason="no topics bundle in models/ (run `vicx train topics`)"
)


@pytest.fixture(scope="module")
def lexicon() -> TopicLexicon:
    return TopicLexicon.load()


def _topics(lexicon: TopicLexicon, text: str) -> set[str]:
    return {m.topic for m in lexicon.match(normalize(text))}


# --- taxonomy -------------------------------------------------------------------------------


def test_taxonomy_names_are_the_labelled_topics() -> None:
    assert topic_names() == TOPICS
    assert all(t.label_vi and t.label_en and t.definition for t in load_taxonomy())


def test_taxonomy_rejects_duplicate_names(tmp_path: Path) -> None:
    entry = '[[topic]]\nname = "price"\nlabel_vi = "Giá"\nlabel_en = "Price"\ndefinition = "x"\n'
    path = tmp_path / "taxonomy.toml"
    path.write_text(entry * 2, encoding="utf-8")
    with pytest.raises(DataError):
        load_taxonomy(path)


# --- lexicon matcher ------------------------------------------------------------------------


def test_lexicon_matches_longest_term_with_positions(lexicon: TopicLexicon) -> None:
    matches = lexicon.match("đồ ăn ngon nhưng phục vụ chậm quá")
    process = [m for m in matches if m.topic == "process"]
    assert [(m.surface, m.start, m.end) for m in process] == [("phục vụ chậm", 4, 7)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nhan vien tu van nhiet tinh", {"people"}),  # multi-syllable unaccented forms
        ("giá <money> hơi đắt", {"price"}),
        ("được giảm <money> khi thanh toán", {"promotion", "process"}),
        ("đợi mãi mới có người ra", {"process"}),
        ("bạn thu ngân mặt nặng mày nhẹ", {"people"}),
    ],
)
def test_lexicon_finds_the_topic(lexicon: TopicLexicon, text: str, expected: set[str]) -> None:
    assert expected <= _topics(lexicon, text)


def test_one_syllable_unaccented_forms_only_in_unaccented_comments() -> None:
    from nlp.topic_lexicon import LexiconTerm

    terms = [LexiconTerm("chậm", "process", "negative", False, False, False)]
    lexicon = TopicLexicon(terms, TOPICS)
    assert [m.term for m in lexicon.match("ship cham qua")] == ["chậm"]
    # In a comment typed with diacritics a bare "cham" is another word, not "chậm".
    assert lexicon.match("tôi cham vào màn hình") == []
    assert [m.surface for m in lexicon.match("tôi thấy chậm")] == ["chậm"]


def test_accented_only_terms_never_match_unaccented() -> None:
    from nlp.topic_lexicon import LexiconTerm

    terms = [LexiconTerm("hàng giả", "product", "negative", False, False, True)]
    lexicon = TopicLexicon(terms, TOPICS)
    assert lexicon.match("hang gia") == []
    assert len(lexicon.match("toàn hàng giả")) == 1


def test_teencode_expanded_comment_still_counts_as_unaccented() -> None:
    # "ko" becomes "không" in normalisation: one accented word must not switch the rule off.
    assert is_unaccented(normalize("nhan vien ko nhiet tinh cho lau qua").split())
    assert not is_unaccented(normalize("nhân viên không nhiệt tình").split())


def test_lexicon_features_share_one_column_per_term(lexicon: TopicLexicon) -> None:
    accented = lexicon.features([lexicon.match("nhân viên nhiệt tình")])
    plain = lexicon.features([lexicon.match("nhan vien nhiet tinh")])
    assert accented.shape == (1, lexicon.n_features)
    assert (accented != plain).nnz == 0


# --- clauses and negation -------------------------------------------------------------------


def _clauses(text: str) -> list[str]:
    tokens = normalize(text).split()
    spans = clause_spans(tokens, load_clause_lexicon(), is_unaccented(tokens))
    return [" ".join(tokens[a:b]) for a, b in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đồ ăn ngon nhưng phục vụ chậm quá", ["đồ ăn ngon", "nhưng phục vụ chậm quá"]),
        ("Phòng đẹp, tuy nhiên hơi ồn", ["phòng đẹp ,", "tuy nhiên hơi ồn"]),
        ("Giá rẻ còn nhân viên thì cau có", ["giá rẻ", "còn nhân viên thì cau có"]),
        ("Quán không còn ngon như trước", ["quán không còn ngon như trước"]),
        ("Shop vẫn còn hàng không?", ["shop vẫn còn hàng không ?"]),
    ],
)
def test_clause_splitting(text: str, expected: list[str]) -> None:
    assert _clauses(text) == expected


@pytest.mark.parametrize(
    ("text", "sign"),
    [("không hề chậm", 1), ("chậm", -1), ("không ngon", -1), ("có ngon đâu", -1), ("ngon", 1)],
)
def test_negation_flips_the_lexicon_score(text: str, sign: int) -> None:
    _, scores = polarity_cues(text.split(), load_clause_lexicon(), False)
    assert np.sign(scores[0] - scores[1]) == sign


def test_exceptions_do_not_negate() -> None:
    marked, scores = polarity_cues(["không", "gian", "đẹp"], load_clause_lexicon(), False)
    assert "NEG_đẹp" not in marked and scores[0] > 0


# --- aspect mapping -------------------------------------------------------------------------


def test_mapping_targets_are_topics_or_markers() -> None:
    valid = {*TOPICS, NO_TOPIC, UNRESOLVED}
    mapping = load_mapping(TOPICS)
    assert {"uit_visfd", "vlsp2018_hotel", "vlsp2018_restaurant"} <= set(mapping)
    assert all(v in valid for labels in mapping.values() for v in labels.values())
    assert mapping["tiki_fashion_absa"]["delivery"] == "process"
    assert mapping["shopee_lipstick_absa"]["packing"] == "physical_evidence"
    assert mapping["vlsp2018_hotel"]["SERVICE#GENERAL"] == "people"


def _record(*aspects: Aspect) -> CorpusRecord:
    return CorpusRecord("t", "train", "x", "x", None, None, aspects, {})


def test_map_record_merges_polarities_and_drops_unresolved() -> None:
    labels = {"A": "product", "B": "product", "C": UNRESOLVED, "D": NO_TOPIC}
    agreeing = map_record(_record(Aspect("A", "positive"), Aspect("D", "negative")), labels)
    assert agreeing is not None and dict(agreeing.topics) == {"product": "positive"}
    mixed = map_record(_record(Aspect("A", "positive"), Aspect("B", "negative")), labels)
    assert mixed is not None and dict(mixed.topics) == {"product": None}
    assert map_record(_record(Aspect("C", "positive")), labels) is None


# --- estimators -----------------------------------------------------------------------------


def test_topic_classifier_contract() -> None:
    rng = np.random.default_rng(0)
    x = sp.csr_matrix(rng.random((40, 6)))
    y = np.column_stack([x[:, 0].toarray().ravel() > 0.5, np.zeros(40, dtype=bool)]).astype(int)
    model = TopicClassifier(topics=("a", "b"), C=2.0)
    assert clone(model).get_params() == {"topics": ("a", "b"), "C": 2.0, "thresholds": None}
    model.fit(x, y)
    probabilities = model.predict_proba(x)
    assert probabilities.shape == (40, 2)
    assert np.all(probabilities[:, 1] == 0.0)  # a topic never seen positive scores 0
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.predict(x), model.predict(x))
    with pytest.raises(ValueError, match="one column per topic"):
        TopicClassifier(topics=("a",)).fit(x, y)


def test_thresholds_maximise_each_topics_smoothed_f1() -> None:
    # Topic a: positives score 0.7-0.9, negatives 0.1-0.3; every cut in (0.3, 0.7] is perfect
    # and the tie goes to 0.5. Topic b: positives at 0.2, negatives at 0.1; the smoothed curve
    # peaks at 0.15, the middle of the perfect cuts 0.125-0.2.
    truth = np.array([[1, 1], [1, 1], [1, 1], [0, 0], [0, 0], [0, 0]], dtype=bool)
    scores = np.array([[0.7, 0.2], [0.8, 0.2], [0.9, 0.2], [0.1, 0.1], [0.2, 0.1], [0.3, 0.1]])
    assert thresholds_from(scores, truth) == [0.5, 0.15]


def test_a_comment_and_its_copy_without_diacritics_share_a_fold() -> None:
    texts = [f"phục vụ chậm lần {i}" for i in range(40)]
    texts += [strip_diacritics(t) for t in texts]
    folds = fold_assignment(texts, 5)
    assert np.array_equal(folds[:40], folds[40:])
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    assert np.array_equal(folds, fold_assignment(texts, 5))  # seeded: a retrain reproduces it


def test_clause_polarity_contract_and_negation() -> None:
    texts = ["ngon", "chậm", "bao nhiêu ?", "nhanh", "tệ", "mấy giờ mở cửa ?"] * 3
    labels = ["positive", "negative", "neutral", "positive", "negative", "neutral"] * 3
    model = ClausePolarityModel(C=1.0)
    assert clone(model).get_params() == {"C": 1.0, "cue_weight": 1.0}
    model.fit(texts, labels)
    assert model.predict(["không hề chậm"])[0] == "positive"
    assert model.predict_proba([]).shape == (0, 3)
    assert pickle.loads(pickle.dumps(model)).predict(["chậm"])[0] == "negative"
    with pytest.raises(ValueError, match="Unknown polarity"):
        ClausePolarityModel().fit(["x"], ["bad"])


def test_polarity_stacker_learns_which_opinion_to_trust() -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice(list(SENTIMENTS), size=300)
    truth = np.eye(3)[[SENTIMENTS.index(label) for label in labels]]
    noise = np.full((300, 3), 1 / 3)
    # The whole-comment opinion is right, the two clause opinions are noise: the stack follows it.
    inputs = PolarityStacker.features(noise, noise, 0.1 + 0.8 * truth)
    assert inputs.shape == (300, 9) and np.all(
        np.isfinite(PolarityStacker.features(np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((1, 3))))
    )
    model = PolarityStacker(C=1.0)
    assert clone(model).get_params() == {"C": 1.0}
    model.fit(inputs, labels)
    probabilities = model.predict_proba(inputs)
    assert probabilities.shape == (300, 3)
    assert np.array_equal(np.array(SENTIMENTS)[probabilities.argmax(axis=1)], labels)
    assert model.predict_proba(np.zeros((0, 9))).shape == (0, 3)
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.predict_proba(inputs), probabilities)
    with pytest.raises(ValueError, match="Unknown polarity"):
        PolarityStacker().fit(inputs[:1], ["bad"])


def test_score_topics_counts_pairs_and_skips_unknown_polarity() -> None:
    from nlp.heads import TopicPrediction

    truth = [{"product": "positive", "process": None}]
    guess = [
        TopicPrediction(
            topics=["product", "process"],
            topic_sentiments={"product": "positive", "process": "negative"},
        )
    ]
    metrics = score_topics("t", truth, guess, TOPICS)
    assert metrics.micro_f1 == 1.0 and metrics.pair_micro_f1 == 1.0


# --- the real Analyzer with the shipped bundle ----------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Analyzer:
    return Analyzer.load()


@requires_topics_bundle
def test_evaluation_scores_what_analyze_returns(shipped: Analyzer) -> None:
    """`vicx evaluate-topics` must measure the topic fields users get from analyze()."""
    texts = [
        "Đồ ăn ngon nhưng phục vụ chậm quá, giá hơi cao",
        "nv tư vấn nhiệt tình, app thì hay lỗi",
        "Giá 29k một ly mà ngồi máy lạnh cả buổi thì quá hời.",
    ]
    results = shipped.analyze(texts)
    evaluated = analyzer_topics(shipped)([normalize(t) for t in texts])
    for result, prediction in zip(results, evaluated, strict=True):
        assert result.topics == prediction.topics
        assert result.topic_sentiments == prediction.topic_sentiments


@requires_topics_bundle
def test_polarity_opinions_average_each_topics_own_carrier_clauses(shipped: Analyzer) -> None:
    """The stacker's inputs, row by row: the clause model and the sentiment head averaged over
    that topic's carrier clauses (the comment itself when it is one clause), and the comment's
    own sentiment."""
    texts = [
        normalize(t)
        for t in (
            "Đồ ăn ngon nhưng phục vụ chậm quá, giá hơi cao so với khẩu phần.",
            "Nhân viên dễ thương",
            "phòng sạch, view đẹp nhưng wifi yếu, lễ tân thì cáu kỉnh",
        )
    ]
    assert shipped.topics is not None
    head = shipped.topics.model
    comments = head.analyse_texts(texts)
    matrix = shipped.featurize(texts)
    scored = head.topic_probabilities(comments, matrix, shipped.featurize)
    whole = shipped.sentiment.model.predict_proba(matrix)
    context = SentimentContext(whole, shipped.sentiment.model.predict_proba)
    pairs = [(row, column) for row in range(len(texts)) for column in range(len(TOPICS))]
    carriers, (by_clause, by_carrier, by_whole) = head.polarity_inputs(
        comments, scored, pairs, shipped.featurize, context
    )
    for index, (row, column) in enumerate(pairs):
        clauses = [comments[row].clause_text(c) for c in carriers[(row, column)][0]]
        expected = head.polarity.predict_proba(clauses).mean(axis=0)
        assert np.allclose(by_clause[index], expected)
        own = whole[row] if len(comments[row].spans) < 2 else None
        carrier = shipped.sentiment.model.predict_proba(shipped.featurize(clauses)).mean(axis=0)
        assert np.allclose(by_carrier[index], carrier if own is None else own)
        assert np.allclose(by_whole[index], whole[row])


@requires_topics_bundle
def test_contrast_gives_one_polarity_per_topic(shipped: Analyzer) -> None:
    result = shipped.analyze(["Đồ ăn ngon nhưng phục vụ chậm quá"])[0]
    assert result.topic_sentiments.get("product") == "positive"
    assert result.topic_sentiments.get("process") == "negative"
    assert "phục vụ chậm" in result.evidence["process"]
    assert set(result.topic_scores) == set(TOPICS)
    assert result.topics == sorted(result.topics, key=lambda t: -result.topic_scores[t])


@requires_topics_bundle
@pytest.mark.parametrize(
    ("text", "topic", "polarity"),
    [
        ("Giao hàng không hề chậm, shipper rất lịch sự", "process", "positive"),
        ("Đợi mãi mới có người ra tiếp", "process", "negative"),
        ("Bạn thu ngân mặt nặng mày nhẹ", "people", "negative"),
        ("Giá rẻ hơn chỗ khác", "price", "positive"),
        ("Được giảm 50k cho đơn đầu tiên", "promotion", "positive"),
        ("Phí thường niên bao nhiêu vậy?", "price", "neutral"),
        ("nhan vien tu van nhiet tinh", "people", "positive"),
    ],
)
def test_hard_cases(shipped: Analyzer, text: str, topic: str, polarity: str) -> None:
    result = shipped.analyze([text])[0]
    assert result.topic_sentiments.get(topic) == polarity, result.topic_sentiments
    assert result.evidence[topic]


@requires_topics_bundle
def test_generic_praise_has_no_topic(shipped: Analyzer) -> None:
    assert shipped.analyze(["Rất hài lòng"])[0].topics == []


def test_a_retrained_card_keeps_the_sections_other_commands_measured() -> None:
    from nlp.training.topic_card import kept_sections

    previous = (
        "# t\n\n## Metrics\nold\n\n## VLSP2018 literature comparison\n| a | 1 |\n\n## Limits\nx\n"
    )
    assert kept_sections(previous) == "## VLSP2018 literature comparison\n| a | 1 |\n\n"
    assert kept_sections("# t\n\n## Limits\n") == ""


def test_out_of_fold_never_scores_a_row_with_a_head_that_saw_it_or_its_twin() -> None:
    from nlp.topics import TopicScores
    from nlp.training.topic_data import MULTI_INDUSTRY, TopicExample
    from nlp.training.topics import THRESHOLD_FOLDS, out_of_fold

    texts = [f"nhân viên lần {i} phục vụ chậm" for i in range(30)]
    examples = [TopicExample(t, {"process": "negative"}, 3.0, MULTI_INDUSTRY) for t in texts]
    examples += [TopicExample(strip_diacritics(t), {}, 3.0, MULTI_INDUSTRY) for t in texts]
    examples.append(TopicExample("áo đẹp", {"product": "positive"}, 0.1, "uit_visfd"))

    class Memorised:
        """Scores 1 for a text it was fitted on (or its twin), else 0."""

        def __init__(self, rows: Sequence[TopicExample]) -> None:
            self.seen = {strip_diacritics(e.text) for e in rows}

        def analyse_texts(self, batch: Sequence[str]) -> list[str]:
            return list(batch)

        def topic_probabilities(self, batch: Sequence[str], *_: object) -> TopicScores:
            seen = [float(strip_diacritics(t) in self.seen) for t in batch]
            return TopicScores(np.array([[s, s] for s in seen]))

    fitted: list[Memorised] = []

    def fit(rows: Sequence[TopicExample]) -> Memorised:
        assert any(e.source == "uit_visfd" for e in rows)  # corpora rows are never held out
        fitted.append(Memorised(rows))
        return fitted[-1]

    featurizer = TextFeaturizer().fit(texts)
    scores, truth = out_of_fold(fit, featurizer, ("process", "product"), examples)  # type: ignore[arg-type]
    assert len(fitted) == THRESHOLD_FOLDS
    assert scores.shape == (60, 2) and not scores.any()  # no head had seen the row it scored
    assert truth[:30, 0].all() and not truth[30:].any()
