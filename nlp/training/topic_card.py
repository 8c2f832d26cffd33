"""CARD.md of the topics bundle, written from the numbers the trainer measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from nlp.markdown import markdown_table
from nlp.topic_evaluation import topic_markdown_table

if TYPE_CHECKING:
    from nlp.training.topics import TopicTrainReport


def ablation_table(report: TopicTrainReport) -> str:
    headers = [
        "training sources (gold dev)",
        "topic micro-F1",
        "lowest P F1",
        "pair micro-F1",
        "informal micro-F1",
        "standard micro-F1",
    ]
    rows = []
    for name, metrics in report.ablation:
        by_name = {m.benchmark.rsplit(":", 1)[-1]: m for m in metrics}
        overall = metrics[0]
        informal = by_name.get("informal")
        standard = by_name.get("standard")
        rows.append(
            [
                name,
                f"{overall.micro_f1:.3f}",
                f"{overall.lowest_f1:.3f}",
                f"{overall.pair_micro_f1:.3f}",
                f"{informal.micro_f1 if informal else 0:.3f}",
                f"{standard.micro_f1 if standard else 0:.3f}",
            ]
        )
    return markdown_table(headers, rows)


def polarity_table(report: TopicTrainReport) -> str:
    rows = [
        (name, f"{m.pair_micro_f1:.3f}", f"{m.polarity_accuracy:.3f}")
        for name, m in report.polarity_ablation
    ]
    return markdown_table(["polarity (gold dev)", "pair micro-F1", "polarity acc"], rows)


def threshold_table(report: TopicTrainReport) -> str:
    rows = [
        (name, f"{m.micro_f1:.3f}", f"{m.lowest_f1:.3f}", f"{m.pair_micro_f1:.3f}")
        for name, m in report.threshold_comparison
    ]
    split = report.threshold_comparison[0][1].benchmark if report.threshold_comparison else ""
    headers = ["thresholds tuned on", f"micro-F1 ({split})", "lowest P F1", "pair micro-F1"]
    return markdown_table(headers, rows)


def _targets(report: TopicTrainReport) -> str:
    by_name = {m.benchmark: m for m in report.metrics}
    overall = next((m for m in report.metrics if m.benchmark.startswith("gold:")), None)
    if overall is None:
        return "(no gold metrics)"
    split = overall.benchmark.split(":")[1]
    standard = by_name.get(f"gold:{split}:standard")
    informal = by_name.get(f"gold:{split}:informal")
    gap = standard.micro_f1 - informal.micro_f1 if standard and informal else float("nan")
    rows = [
        ("topic micro-F1", overall.micro_f1, ">= 0.85"),
        ("lowest per-P F1", overall.lowest_f1, ">= 0.75"),
        ("topic+polarity pair micro-F1", overall.pair_micro_f1, ">= 0.75"),
        ("standard minus informal micro-F1", gap, "<= 0.05"),
    ]
    return markdown_table(
        ["measure", "reached", "target"],
        [(name, f"{value:.3f}", target) for name, value, target in rows],
    )


#: Sections measured by other commands (`vicx evaluate-vlsp2018`) that a retrain must keep.
KEPT_SECTIONS = ("## VLSP2018 literature comparison",)


def kept_sections(previous_card: str) -> str:
    """The sections of ``previous_card`` named in KEPT_SECTIONS, each up to the next section."""
    kept = []
    for heading in KEPT_SECTIONS:
        start = previous_card.find(heading + "\n")
        if start < 0:
            continue
        end = previous_card.find("\n## ", start + len(heading))
        kept.append(previous_card[start : end if end >= 0 else None].rstrip() + "\n\n")
    return "".join(kept)


def topics_card(
    report: TopicTrainReport,
    topics: Sequence[str],
    licences: Mapping[str, str],
    previous_card: str = "",
) -> str:
    sources = "\n".join(f"| {k} | {v:,} |" for k, v in sorted(report.per_source.items()))
    thresholds = ", ".join(f"{k} {v:.3f}" for k, v in report.thresholds.items())
    terms = "\n".join(f"- **{k}**: {v}" for k, v in licences.items())
    return f"""# topics — 7P topics, a polarity per topic, and the evidence

## Intended use
Which of the 7 Ps ({", ".join(topics)}) a Vietnamese customer comment talks about, with a
probability for every P, the polarity of each detected P, and the words or clause that triggered
it (for highlighting). For aggregate CX analysis across many comments; not for judging individual
staff members, and not for text in other languages.

## Model
- Detection: one logistic regression per P (liblinear, C=4) on the shared `features` bundle
  joined with the lexicon features (one column per term of `data/lexicons/topics.tsv`, every
  spelling of a term sharing its column, plus per-P counts of strong and weak matches), scaled
  by 0.2.
  A comment of several clauses is scored whole and per clause; its score for a P is the mean of
  its own score and the larger of its own and its best clause's (one loud clause otherwise
  drowns another). Thresholds per P tuned for F1 on the gold dev split pooled with the team
  rows' out-of-fold scores (5 folds; a row and its copy without diacritics share a fold), because
  dev alone is too small to place them: {thresholds}.
- Lexicon matching (`nlp/topic_lexicon.py`): accented terms always; unaccented spellings of
  multi-syllable terms anywhere; unaccented one-syllable forms only in comments typed without
  diacritics; `[accented_only]` terms never unaccented.
- Polarity: comments are cut into clauses at punctuation and contrast markers (nhưng, tuy nhiên,
  mà, còn ...). A clause polarity model (logistic regression on word 1-2 grams with negated words
  marked, plus negation-aware lexicon scores) scores each clause. A detected P's carrier clauses
  are those holding its lexicon terms, else the clause that scores highest for it. A stacker (a
  logistic regression over log-probabilities) then weighs three opinions: the clause model's
  mean over the carriers, the `sentiment` head's over the same clauses, and the `sentiment`
  head's over the whole comment. It is fitted on the team rows' labelled topics, so the bundle
  pins the sentiment bundle's hash (`sentiment_sha256`) and is refused next to another one.
- Evidence: the P's lexicon terms as written, else that clause.

## Training data (rows; team rows include an unaccented copy)
| source | rows |
|---|---|
{sources}

Corpus aspect labels are mapped with `data/aspect_mapping.toml` (decisions written there):
delivery speed = process, shipper/staff attitude = people, packaging = physical_evidence,
uit_visfd SER&ACC and every "others" label unresolved (those records are left out), VLSP
*#MISCELLANEOUS of the hotel/restaurant entity unresolved, overall verdicts (HOTEL#GENERAL,
RESTAURANT#GENERAL) no P. No corpus teaches promotion: it comes from the team set and lexicon.

### Corpus terms
{terms}

Most of these corpora are licensed for research only: clear the terms before commercial use.

## Ablation on the gold dev split (thresholds tuned on dev for each row)
{ablation_table(report)}

## Polarity on the gold dev split (the shipped detection, two ways to give each P a polarity)
{polarity_table(report)}

"polarity acc" is over the Ps that truth and prediction both hold. The whole comment's sentiment
is a strong prior (most comments hold one feeling); the clause opinions move it when a comment
holds two ("ngon nhưng đắt").

## Thresholds: dev alone or pooled with out-of-fold team rows
{threshold_table(report)}

## Metrics (`vicx train topics`; gold = the team's multi-industry set; corpora = mapped test splits)
{topic_markdown_table(report.metrics, topics)}

`gold:*:informal` are the rows typed without diacritics or in teencode. Corpus rows score only the
Ps the corpus labels; polarity accuracy is over the Ps both truth and prediction hold.

## Against the issue's targets (gold test)
{_targets(report)}

{kept_sections(previous_card)}## Limits
- The gold and training sets were written by the vicx team, not collected from customers.
- Corpus mapping is weak where a source label mixes Ps (VLSP SERVICE#GENERAL covers serving
  speed as well as staff; delivery labels never separate coverage from speed).
- Sarcasm is read literally by the clause polarity model; comparisons with competitors confuse it.
- When a comment holds one strong feeling, the stacker lets it colour every P of that comment: a
  minor, differently-felt P in a long comment can take the comment's polarity.
- A P found by the classifier without any lexicon term takes one clause as evidence; in a long
  comment that clause can be the wrong one.
"""
