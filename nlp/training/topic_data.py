"""Training rows for the topic head: 7P labels per comment and polarity labels per clause.

Sources, each switchable for the ablation:
- ``multi_industry``: the team's hand-labelled set (every P, every industry, every style), with an
  unaccented copy of each row, weighted up because it is what users send.
- ``corpora``: the train splits of the aspect corpora, labels mapped with data/aspect_mapping.toml
  (records with an unresolved label left out), weighted down: they teach product, price, place,
  people and physical evidence in three domains and never promotion.
Clause polarity rows come from uit_visd4sa's character spans (one aspect judgement per span), from
corpus reviews whose aspect polarities all agree, and from the team's set: whole comments whose
topics share one polarity, and clauses whose lexicon terms point at exactly one labelled topic.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from nlp.aspect_mapping import load_mapping, map_record
from nlp.clauses import clause_spans, is_unaccented, load_clause_lexicon
from nlp.corpora import load_corpus
from nlp.labelled import LabelledComment, load_training_set
from nlp.normalize import normalize, strip_diacritics
from nlp.topic_lexicon import TopicLexicon

MULTI_INDUSTRY: Final = "multi_industry"
#: Corpora whose mapped aspect labels train the topic classifier, with the most rows kept from
#: each (a random sample, fixed seed) so the big e-commerce sets do not drown the others.
TOPIC_CORPORA: Final[Mapping[str, int]] = {
    "vlsp2018_hotel": 3000,
    "vlsp2018_restaurant": 3000,
    "uit_visfd": 2500,
    "tiki_fashion_absa": 2500,
    "shopee_lipstick_absa": 2500,
    "uit_vsfc": 2000,
}
#: Corpora that teach clause polarity (uit_visd4sa for its spans, minus the comments that are in
#: uit_visfd's dev/test splits: the two corpora share comments).
POLARITY_CORPORA: Final[Mapping[str, int]] = {
    "uit_visd4sa": 6000,
    "vlsp2018_hotel": 1500,
    "vlsp2018_restaurant": 1500,
    "tiki_fashion_absa": 1500,
    "shopee_lipstick_absa": 1500,
}
WEIGHTS: Final[Mapping[str, float]] = {MULTI_INDUSTRY: 3.0, "corpora": 0.1}
SEED: Final = 13


@dataclass(frozen=True, slots=True)
class TopicExample:
    text: str
    topics: Mapping[str, str | None]
    weight: float
    source: str


@dataclass(frozen=True, slots=True)
class PolarityExample:
    text: str
    label: str
    weight: float
    source: str


def _sample(items: Sequence[object], limit: int) -> list[int]:
    indices = list(range(len(items)))
    if len(indices) > limit:
        indices = sorted(random.Random(SEED).sample(indices, limit))
    return indices


def team_texts(comment: LabelledComment) -> list[str]:
    """The texts one team row trains on: normalised, and also without diacritics (how a third of
    users type) when that differs. :func:`team_examples` yields them in this order."""
    text = normalize(comment.text)
    plain = strip_diacritics(text)
    return [text] if plain == text else [text, plain]


def team_examples(comments: Iterable[LabelledComment]) -> list[TopicExample]:
    """The team's rows, each also without diacritics (:func:`team_texts`)."""
    weight = WEIGHTS[MULTI_INDUSTRY]
    return [
        TopicExample(text, dict(comment.topics), weight, MULTI_INDUSTRY)
        for comment in comments
        for text in team_texts(comment)
    ]


def corpus_topic_examples(topics: Sequence[str], split: str = "train") -> list[TopicExample]:
    mapping = load_mapping(topics)
    examples = []
    for name, limit in TOPIC_CORPORA.items():
        records = load_corpus(name, split)
        mapped = [m for m in (map_record(r, mapping[name]) for r in records) if m is not None]
        for index in _sample(mapped, limit):
            row = mapped[index]
            examples.append(TopicExample(row.text, row.topics, WEIGHTS["corpora"], name))
    return examples


def topic_examples(
    topics: Sequence[str], *, team: bool = True, corpora: bool = True
) -> list[TopicExample]:
    examples: list[TopicExample] = []
    if team:
        examples += team_examples(load_training_set())
    if corpora:
        examples += corpus_topic_examples(topics)
    return examples


def _span_examples(limit: int) -> list[PolarityExample]:
    # uit_visd4sa holds uit_visfd's comments under another split: drop those in uit_visfd's dev
    # and test splits, or the uit_visfd benchmark would score texts the model was trained on.
    held_out = {r.text for split in ("dev", "test") for r in load_corpus("uit_visfd", split)}
    spans = []
    for record in load_corpus("uit_visd4sa", "train"):
        if record.text in held_out:
            continue
        for aspect in record.aspects:
            if aspect.span is not None and aspect.polarity is not None:
                text = normalize(record.raw[aspect.span[0] : aspect.span[1]])
                if text:
                    spans.append(PolarityExample(text, aspect.polarity, 1.0, "uit_visd4sa"))
    return [spans[i] for i in _sample(spans, limit)]


def _agreeing_examples(name: str, limit: int) -> list[PolarityExample]:
    rows = []
    for record in load_corpus(name, "train"):
        polarities = {a.polarity for a in record.aspects if a.polarity is not None}
        if len(polarities) == 1:
            rows.append(PolarityExample(record.text, polarities.pop(), 1.0, name))
    return [rows[i] for i in _sample(rows, limit)]


def team_polarity_examples(
    comments: Iterable[LabelledComment], lexicon: TopicLexicon
) -> list[PolarityExample]:
    clause_lexicon = load_clause_lexicon()
    weight = WEIGHTS[MULTI_INDUSTRY]
    rows = []
    for comment in comments:
        text = normalize(comment.text)
        polarities = set(comment.topics.values())
        if len(polarities) == 1:
            rows.append(PolarityExample(text, polarities.pop(), weight, MULTI_INDUSTRY))
        elif not polarities:
            rows.append(PolarityExample(text, comment.sentiment, weight, MULTI_INDUSTRY))
        tokens = text.split()
        unaccented = is_unaccented(tokens)
        spans = clause_spans(tokens, clause_lexicon, unaccented)
        if len(spans) < 2 or not comment.topics:
            continue
        matches = lexicon.match_tokens(tokens, unaccented)
        for start, end in spans:
            found = {m.topic for m in matches if start <= m.start < end} & set(comment.topics)
            labels = {comment.topics[t] for t in found}
            if len(labels) == 1:
                clause = " ".join(tokens[start:end])
                rows.append(PolarityExample(clause, labels.pop(), weight, MULTI_INDUSTRY))
    return rows + [
        PolarityExample(strip_diacritics(r.text), r.label, r.weight, r.source)
        for r in rows
        if strip_diacritics(r.text) != r.text
    ]


def polarity_examples(lexicon: TopicLexicon, *, corpora: bool = True) -> list[PolarityExample]:
    rows = team_polarity_examples(load_training_set(), lexicon)
    if corpora:
        for name, limit in POLARITY_CORPORA.items():
            rows += (
                _span_examples(limit) if name == "uit_visd4sa" else _agreeing_examples(name, limit)
            )
    return rows
