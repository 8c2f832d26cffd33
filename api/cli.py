"""The ``vicx`` command line. Every command calls the same ``nlp.Analyzer`` as the service.

Errors from ``nlp`` are translated here, once: a message on stderr and an exit code per family.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer
from tqdm import tqdm

from nlp.errors import DataError, InputError, ModelError, VicxError

app = typer.Typer(
    name="vicx",
    help="Vietnamese customer-feedback intelligence: sentiment, 7P topics, detractor signals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Train model bundles (reads the corpora under VICX_DATA_DIR).")
app.add_typer(train_app, name="train")

EXIT_CODES: Final = {InputError: 2, ModelError: 3, DataError: 4}


def fail(error: VicxError) -> NoReturn:
    typer.echo(f"error {error.code}: {error.message}", err=True)
    code = next((c for kind, c in EXIT_CODES.items() if isinstance(error, kind)), 1)
    raise typer.Exit(code)


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


ModelDir = Annotated[
    Path | None,
    typer.Option("--model-dir", help="Folder of model bundles (default: the shipped models/)."),
]


@app.command()
def analyze(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV, TSV, XLSX or JSONL.")],
    text_column: Annotated[
        str, typer.Option("--text-column", "-c", help="Column with the comments.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV, TSV, XLSX or JSONL.")],
    model_dir: ModelDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Analyse every comment of INPUT and write OUTPUT with the input columns plus vicx's fields.

    Example: vicx analyze reviews.csv --text-column comment --output out.jsonl
    """
    from api.tabular import ResultWriter, count_rows, file_format, read_chunks
    from nlp.analyzer import Analyzer

    try:
        file_format(output)
        analyzer = Analyzer.load(model_dir)
        total = count_rows(input_path) if input_path.is_file() else None
        rows = 0
        flagged = 0
        with (
            tqdm(total=total, unit="rows", disable=quiet, file=sys.stderr) as progress,
            ResultWriter(output) as writer,
        ):
            for chunk in read_chunks(input_path, text_column):
                analysed = analyzer.analyze_frame(chunk, text_column)
                writer.write(analysed)
                rows += len(chunk)
                flagged += sum(bool(flags) for flags in analysed["flags"])
                progress.update(len(chunk))
    except VicxError as error:
        fail(error)
    summary = f"analysed {rows} rows -> {output}"
    if flagged:
        summary += f" ({flagged} rows had no analysable text; see the 'flags' column)"
    typer.echo(summary, err=True)


@train_app.command("sentiment")
def train_sentiment(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the bundles.")
    ] = Path("models"),
    tokenizer: Annotated[
        str, typer.Option(help="syllable (fast path) or underthesea (word segmentation).")
    ] = "syllable",
    corpora: Annotated[
        list[str] | None,
        typer.Option("--corpus", help="Train on these corpora only (repeatable; default: all)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """Fit the shared features and the sentiment head on the corpora and the team's set."""
    from nlp.evaluation import markdown_table
    from nlp.tokenize import TOKENIZERS
    from nlp.training.sentiment import train_sentiment as train
    from nlp.training.sentiment_data import SENTIMENT_CORPORA

    configure_logging(verbose)
    if tokenizer not in TOKENIZERS:
        typer.echo(f"error: --tokenizer must be one of {', '.join(TOKENIZERS)}", err=True)
        raise typer.Exit(2)
    unknown = sorted(set(corpora or ()) - set(SENTIMENT_CORPORA))
    if unknown:
        typer.echo(
            f"error: unknown corpus {', '.join(unknown)}; valid: {', '.join(SENTIMENT_CORPORA)}",
            err=True,
        )
        raise typer.Exit(2)
    try:
        report = train(output, tokenizer=tokenizer, corpora=corpora or SENTIMENT_CORPORA)
    except VicxError as error:
        fail(error)
    typer.echo(markdown_table(report.metrics))
    typer.echo(f"saved bundles to {output} ({report.examples} training rows)", err=True)


@app.command()
def evaluate(
    model_dir: ModelDir = None,
    split: Annotated[str, typer.Option(help="test (report) or dev (tuning).")] = "test",
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics as JSON.")
    ] = None,
    aivivn_cv: Annotated[
        bool,
        typer.Option(
            "--aivivn-cv", help="Also run the 5-fold AIVIVN 2019 cross-validation (~5 min)."
        ),
    ] = False,
) -> None:
    """Print accuracy, macro-F1 and per-class F1 per benchmark for the installed bundles."""
    from sklearn.base import clone

    from nlp.analyzer import Analyzer
    from nlp.detractor_evaluation import (
        analyzer_detractor_fn,
        evaluate_detractor,
        reliability_markdown,
    )
    from nlp.detractor_evaluation import markdown_table as detractor_table
    from nlp.evaluation import aivivn_cross_validation, evaluate_sentiment, markdown_table
    from nlp.taxonomy import topic_names
    from nlp.topic_evaluation import analyzer_topics, evaluate_topics, topic_markdown_table

    try:
        analyzer = Analyzer.load(model_dir)
        metrics = evaluate_sentiment(analyzer.sentiment_probabilities, split=split)
        typer.echo("## Sentiment\n\n" + markdown_table(metrics))
        if analyzer.topics is not None:
            topic_metrics = evaluate_topics(analyzer_topics(analyzer), split)
            typer.echo("\n## Topics\n\n" + topic_markdown_table(topic_metrics, topic_names()))
        if analyzer.detractor is not None:
            detractor_metrics = evaluate_detractor(analyzer_detractor_fn(analyzer), split=split)
            typer.echo("\n## Detractor\n\n" + detractor_table(detractor_metrics))
            typer.echo("\n" + reliability_markdown(detractor_metrics[0]))
        if aivivn_cv:
            head = analyzer.sentiment.model
            cv = aivivn_cross_validation(
                analyzer.featurize,
                lambda matrix, y, w: clone(head).fit(matrix, y, sample_weight=w),
            )
            typer.echo(
                f"\n{cv.benchmark}: negative-class F1 {cv.mean:.3f} "
                f"(folds: {', '.join(f'{s:.3f}' for s in cv.negative_f1)})"
            )
    except VicxError as error:
        fail(error)
    if json_output is not None:
        json_output.write_text(
            json.dumps([m.as_dict() for m in metrics], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )


@app.command()
def bench(
    comments: Annotated[int, typer.Option(help="How many real comments to analyse.")] = 20_000,
    model_dir: ModelDir = None,
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON.")
    ] = None,
) -> None:
    """Measure throughput, cold start and memory, against underthesea's word_tokenize."""
    from nlp.bench import run_bench

    try:
        report = run_bench(comments, model_dir)
    except VicxError as error:
        fail(error)
    typer.echo(report.markdown())
    if json_output is not None:
        json_output.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")


@train_app.command("all")
def train_all(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the bundles.")
    ] = Path("models"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = True,
) -> None:
    """Rebuild every shipped bundle in order: features + sentiment, then topics, then detractor.

    The heads pin the features bundle, so after a features retrain they must be retrained too.
    """
    from nlp.training.detractor import train_detractor
    from nlp.training.sentiment import train_sentiment as train
    from nlp.training.topics import train_topics

    configure_logging(verbose)
    try:
        train(output)
        train_topics(output, output, ablation=False)
        train_detractor(output, base_dir=output)
    except VicxError as error:
        fail(error)
    typer.echo(f"rebuilt features, sentiment, topics and detractor in {output}", err=True)


# Head-specific commands live in their own modules and register themselves on ``train_app``.
import api.cli_detractor  # noqa: E402
import api.cli_topics  # noqa: E402, F401
