"""``vicx train topics`` and ``vicx evaluate-topics``: the 7P topic head from the command line.

Registered on import (``api/cli.py`` imports this module), so the topic commands live next to the
code they drive rather than growing ``api/cli.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli import ModelDir, app, configure_logging, fail, train_app
from nlp.errors import VicxError


@train_app.command("topics")
def train_topics(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the topics bundle.")
    ] = Path("models"),
    model_dir: Annotated[
        Path,
        typer.Option(
            "--model-dir",
            help="Folder holding the features and sentiment bundles to train against (pinned).",
        ),
    ] = Path("models"),
    ablation: Annotated[
        bool, typer.Option(help="Also train and report the source ablation on gold dev.")
    ] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """Fit the 7P topic head, its clause polarity model and the polarity stacker (against the
    features and sentiment bundles in --model-dir); tune thresholds on gold dev pooled with
    out-of-fold scores of the team rows."""
    from nlp.taxonomy import topic_names
    from nlp.topic_evaluation import topic_markdown_table
    from nlp.training.topic_card import ablation_table, polarity_table, threshold_table
    from nlp.training.topics import train_topics as train

    configure_logging(verbose)
    try:
        report = train(model_dir, output, ablation=ablation)
    except VicxError as error:
        fail(error)
    if report.ablation:
        typer.echo(ablation_table(report))
        typer.echo("")
    if report.polarity_ablation:
        typer.echo(polarity_table(report))
        typer.echo("")
    typer.echo(threshold_table(report))
    typer.echo("")
    typer.echo(topic_markdown_table(report.metrics, topic_names()))
    typer.echo(f"saved the topics bundle to {output / 'topics'}", err=True)


@app.command("evaluate-topics")
def evaluate_topics(
    model_dir: ModelDir = None,
    split: Annotated[str, typer.Option(help="test (report) or dev (tuning).")] = "test",
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics as JSON.")
    ] = None,
) -> None:
    """Topic micro-F1, per-P F1 and topic+polarity F1 of the installed topics bundle."""
    from nlp.analyzer import Analyzer
    from nlp.errors import ModelNotFoundError
    from nlp.taxonomy import topic_names
    from nlp.topic_evaluation import analyzer_topics, topic_markdown_table
    from nlp.topic_evaluation import evaluate_topics as evaluate

    try:
        analyzer = Analyzer.load(model_dir)
        if analyzer.topics is None:
            raise ModelNotFoundError(
                "No topics bundle is installed; train one with `vicx train topics`."
            )
        metrics = evaluate(analyzer_topics(analyzer), split)
    except VicxError as error:
        fail(error)
    typer.echo(topic_markdown_table(metrics, topic_names()))
    if json_output is not None:
        json_output.write_text(
            json.dumps([m.as_dict() for m in metrics], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )


@app.command("evaluate-agreement")
def evaluate_agreement(
    model_dir: ModelDir = None,
    annotations: Annotated[
        Path | None,
        typer.Option(
            "--annotations",
            help="The second annotator's labels of the gold test split "
            "(default: data/gold/second_annotator/test.jsonl).",
        ),
    ] = None,
) -> None:
    """How far a second annotator agrees with the gold labels, and the model with each.

    Example: vicx evaluate-agreement
    """
    from nlp.agreement import (
        agreement,
        agreement_table,
        aligned,
        as_annotation,
        model_annotations,
        read_annotations,
        second_annotator_path,
    )
    from nlp.analyzer import Analyzer
    from nlp.errors import ModelNotFoundError
    from nlp.labelled import load_gold
    from nlp.taxonomy import topic_names

    try:
        pairs = aligned(load_gold("test"), read_annotations(annotations or second_annotator_path()))
        analyzer = Analyzer.load(model_dir)
        if analyzer.topics is None:
            raise ModelNotFoundError(
                "No topics bundle is installed; train one with `vicx train topics`."
            )
    except VicxError as error:
        fail(error)
    first = [as_annotation(comment) for comment, _ in pairs]
    second = [annotation for _, annotation in pairs]
    model = model_annotations(analyzer, [comment for comment, _ in pairs])
    topics = topic_names()
    rows = [
        agreement("annotator B against the gold labels (A)", first, second, topics),
        agreement("model against A", first, model, topics),
        agreement("model against B", second, model, topics),
    ]
    typer.echo(agreement_table(rows))


@app.command("audit-labels")
def audit_labels(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="JSONL file of the flagged rows to review.")
    ] = Path("flagged-labels.jsonl"),
    model_dir: ModelDir = None,
    low: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Flag a labelled P scored below this.")
    ] = 0.05,
    high: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Flag an unlabelled P scored above this.")
    ] = 0.9,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """List training rows whose topic labels the head's out-of-fold scores contradict.

    A reading list for a reviewer with data/LABELLING.md: most flags are the model's mistakes,
    so nothing is relabelled automatically. Fits the head five times (a few minutes).

    Example: vicx audit-labels --output flagged.jsonl
    """
    from collections import Counter

    from nlp.paths import models_dir
    from nlp.training.label_audit import audit_training_labels

    configure_logging(verbose)
    try:
        flagged = audit_training_labels(model_dir or models_dir(), low=low, high=high)
    except VicxError as error:
        fail(error)
    with output.open("w", encoding="utf-8") as handle:
        for row in flagged:
            handle.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
    counts = Counter(
        (c.topic, "labelled, scored low" if c.labelled else "unlabelled, scored high")
        for row in flagged
        for c in row.contradictions
    )
    for (topic, kind), count in sorted(counts.items()):
        typer.echo(f"{topic:18s} {kind:24s} {count}")
    typer.echo(f"{len(flagged)} rows flagged; written to {output}")
