"""Model cards (CARD.md) written next to each bundle, from the numbers the trainer measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nlp.evaluation import SentimentMetrics, markdown_table
from nlp.features import TextFeaturizer


def _licence_lines(licences: Mapping[str, str]) -> str:
    return "\n".join(f"- **{name}**: {terms}" for name, terms in licences.items())


def features_card(featurizer: TextFeaturizer, licences: Mapping[str, str]) -> str:
    return f"""# features — shared sparse text features

Hashed word n-grams {featurizer.word_ngrams} over {featurizer.tokenizer} tokens
({featurizer.word_features:,} buckets) plus hashed character n-grams {featurizer.char_ngrams}
within word boundaries ({featurizer.char_features:,} buckets), each TF-IDF weighted (sublinear TF),
concatenated and L2-normalised. Input is text already passed through `nlp.normalize`.

The only learned state is the IDF vector, fitted on the training texts of the sentiment bundle
(every corpus below plus the team's multi-industry set, with unaccented copies). Every head pins
the SHA-256 of this bundle's `model.joblib`; retraining it means retraining the heads
(`vicx train sentiment` does both).

## Corpora whose texts shaped the IDF weights, and their terms
{_licence_lines(licences)}
"""


def sentiment_card(
    metrics: Sequence[SentimentMetrics],
    per_source: Mapping[str, int],
    licences: Mapping[str, str],
    neutral_bias: float,
    tokenizer: str,
) -> str:
    sources = "\n".join(f"| {name} | {count:,} |" for name, count in sorted(per_source.items()))
    return f"""# sentiment — overall sentiment of a comment (positive / neutral / negative)

## Intended use
Overall sentiment of Vietnamese customer feedback: open-ended survey answers, reviews, chat notes,
in any industry. Probabilities are calibrated (Platt scaling, 3-fold) and sum to 1. Not for
deciding about individual people; not for text in other languages.

## Model
Linear SVM (class-balanced) on the shared `features` bundle, {tokenizer} tokens, calibrated with
`CalibratedClassifierCV(method="sigmoid")`; the neutral class's log-odds is shifted by
{neutral_bias:+.2f}, the value that maximised macro-F1 on the gold dev split (review corpora teach
far fewer neutral comments than surveys contain).

## Tokeniser: the syllable fast path, measured against underthesea segmentation
The same training run with `--tokenizer underthesea` (word segmentation joining compounds such
as "nhân_viên") scored no better on the dev splits: gold dev accuracy 0.881 vs 0.893 for
syllables, uit_vsfc dev 0.904 vs 0.903, uit_visfd dev 0.760 vs 0.764, while segmenting is about
20 times slower than the rest of the pipeline. Word bigrams over syllables recover the
compounds. Reproduce with `vicx train sentiment --tokenizer underthesea --output /tmp/ut` and
`vicx evaluate --model-dir /tmp/ut --split dev` next to `vicx evaluate --split dev`.

## Training data (rows after de-duplication, including unaccented copies)
| source | rows |
|---|---|
{sources}

Label mapping: corpora with a sentiment label keep it (aivivn2019: 0 = positive, 1 = negative);
stars 1-2 = negative, 3 = neutral, 4-5 = positive (uit_visfd, vispamreviews non-spam rows);
aspect corpora contribute reviews whose aspect polarities all agree. uit_visd4sa is not used (same
comments as uit_visfd). E-commerce template phrases are stripped before training. One in three
corpus rows and every multi-industry row also appears without diacritics.

### Corpus terms
{_licence_lines(licences)}

Most of these corpora are licensed for research only: clear the terms with their owners before
commercial use of this bundle.

## Metrics (`vicx evaluate`; gold = the team's multi-industry set, official test splits otherwise)
{markdown_table(metrics)}

`gold:test:informal` are the rows typed without diacritics or in teencode.

## Limits
- Sarcasm and irony are often read literally.
- Comparisons with competitors ("bên kia còn tệ hơn") confuse the polarity.
- Star ratings are a noisy proxy for sentiment; 3-star reviews are often complaints.
- The multi-industry training and gold sets were written by the vicx team, not collected from real
  customers; they are varied on purpose but are not a sample of any company's feedback.
"""
