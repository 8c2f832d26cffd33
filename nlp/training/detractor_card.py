"""CARD.md of detractor bundles, from the numbers the trainers measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from nlp.detractor_evaluation import DetractorMetrics, markdown_table, reliability_markdown

if TYPE_CHECKING:
    from nlp.training.detractor_scores import ScoredFitReport

LIMITS = """## Limits
- **Stars rate a purchase, not willingness to recommend.** A 2-star review of a phone case and an
  NPS 3 about a bank are different acts; the corpora give the text model a proxy, and only the
  team's multi-industry rows carry (team-written) NPS scores. Treat the probability as "how much
  this comment reads like a detractor's", and recalibrate it on your own scored surveys
  (`vicx train detractor --data FILE ...`) before reading it as a rate.
- Calibration follows the data it was fitted on: uit_visfd dev (23% detractors) and gold dev (42%).
  A population with another detractor share needs recalibration for the probabilities (not the
  ranking) to hold.
- Short answers with no opinion ("không có ý kiến") get the base rate; sarcasm is often missed.
- `detractor_drivers` are the comment's negative topics from the topic head, ordered by topic
  score times how much a negative mention of that topic raised the detractor rate in the team's
  scored comments; they explain, they do not enter the probability."""


def _licence_lines(licences: Mapping[str, str]) -> str:
    return "\n".join(f"- **{name}**: {terms}" for name, terms in licences.items())


def corpus_card(
    metrics: Sequence[DetractorMetrics],
    per_source: Mapping[str, int],
    licences: Mapping[str, str],
    calibration: str,
    brier: Mapping[str, float],
) -> str:
    sources = "\n".join(f"| {name} | {count:,} |" for name, count in sorted(per_source.items()))
    star = next((m for m in metrics if m.benchmark.startswith("uit_visfd")), None)
    reliability = reliability_markdown(star) if star is not None else ""
    chosen = {"sigmoid": "Platt scaling (the logistic combiner)", "isotonic": "isotonic"}
    return f"""# detractor — P(the writer is an NPS detractor, 0-6)

## Intended use
Rank and flag comments whose writers are likely NPS detractors, and explain them with their
negative 7P topics. A calibrated probability per comment; aggregate it (mean = expected detractor
share) rather than thresholding single comments. Not for decisions about individual people.

## Label mapping
| source | detractor = |
|---|---|
| uit_visfd (smartphone reviews) | 1-2 stars |
| vispamreviews (non-spam rows) | 1-2 stars |
| aivivn2019 | a negative review |
| the team's multi-industry training set | NPS 0-6 |

## Model
1. Text: logistic regression (class-balanced) on the shared `features` bundle, trained on the
   train splits above plus unaccented copies (every third corpus row, every team row).
2. Combiner: logistic regression over the text log-odds and the sentiment head's log(P(negative)
   / P(positive)) and log P(neutral), fitted on held-out rows: uit_visfd dev and gold dev (gold
   rows weighted 2x). Calibration: {chosen.get(calibration, calibration)}, chosen by 5-fold
   cross-validated Brier on those rows ({", ".join(f"{k} {v:.4f}" for k, v in brier.items())}).

## Training rows (after de-duplication, including unaccented copies)
| source | rows |
|---|---|
{sources}

### Corpus terms
{_licence_lines(licences)}

Most are licensed for research only: clear the terms before commercial use of this bundle.

## Metrics (`vicx train detractor`; official test splits, gold test never tuned on)
{markdown_table(metrics)}

uit_visfd: detractor = 1-2 stars. gold: detractor = NPS 0-6; `no_diacritics` are its rows typed
without accents.

{reliability}

{LIMITS}
"""


def scores_card(report: ScoredFitReport, source: str) -> str:
    how = {
        "recalibrate": "the shipped text model kept; the combiner (signal weights and probability "
        "scale) refitted on your rows",
        "refit": "a new text model fitted on your rows, stacked with the sentiment signal",
    }
    return f"""# detractor — fitted on your own scores

Trained on `{source}`: {report.rows} scored comments ({report.detractors} detractors; scale
{report.scale}, detractor = score <= {report.cut}). Skipped {report.dropped} rows without a
comment or a score.
Mode: **{report.mode}** — {how.get(report.mode, report.mode)}.

## Cross-validated metrics ({len(report.cross_validated)} mode(s), same folds)
{markdown_table(list(report.cross_validated.values()))}

{reliability_markdown(report.chosen)}

The features and sentiment bundles beside this one are copies of the base model directory.

{LIMITS}
"""
