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


ENGINES: Final = ("local", "dask")


@app.command()
def analyze(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV, TSV, XLSX or JSONL.")],
    text_column: Annotated[
        str, typer.Option("--text-column", "-c", help="Column with the comments.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV, TSV, XLSX or JSONL.")],
    model_dir: ModelDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="Worker processes (local) or LocalCluster workers (dask)."
        ),
    ] = 1,
    engine: Annotated[
        str,
        typer.Option(
            help="local (this machine's processes) or dask (CSV/Parquet in, a directory of "
            "Parquet parts out, or CSV parts when OUTPUT ends in .csv)."
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler (with --engine dask)."),
    ] = None,
) -> None:
    """Analyse every comment of INPUT and write OUTPUT with the input columns plus vicx's fields.

    Example: vicx analyze reviews.csv --text-column comment --output out.jsonl
    """
    if engine not in ENGINES:
        typer.echo(f"error: --engine must be one of {', '.join(ENGINES)}", err=True)
        raise typer.Exit(2)
    if scheduler is not None and engine != "dask":
        typer.echo("error: --scheduler needs --engine dask", err=True)
        raise typer.Exit(2)
    if engine == "dask":
        from api.dask_engine import analyse_with_dask

        try:
            rows = analyse_with_dask(
                input_path,
                text_column,
                output,
                model_dir=model_dir,
                scheduler=scheduler,
                workers=jobs,
            )
        except VicxError as error:
            fail(error)
        typer.echo(f"analysed {rows} rows -> {output}/", err=True)
        return

    from api.tabular import ResultWriter, count_rows, file_format, read_chunks
    from nlp.analyzer import MAX_TEXT_CHARS
    from nlp.parallel import AnalyzerPool
    from nlp.result import FLAG_EMPTY_TEXT, FLAG_NOT_TEXT, FLAG_TRUNCATED

    try:
        file_format(output)
        total = count_rows(input_path) if input_path.is_file() else None
        rows = 0
        flagged = 0
        truncated = 0
        with (
            tqdm(total=total, unit="rows", disable=quiet, file=sys.stderr) as progress,
            ResultWriter(output) as writer,
            AnalyzerPool(model_dir, jobs) as pool,
        ):
            for analysed in pool.map_frames(read_chunks(input_path, text_column), text_column):
                writer.write(analysed)
                rows += len(analysed)
                flagged += sum(
                    FLAG_EMPTY_TEXT in flags or FLAG_NOT_TEXT in flags
                    for flags in analysed["flags"]
                )
                truncated += sum(FLAG_TRUNCATED in flags for flags in analysed["flags"])
                progress.update(len(analysed))
    except VicxError as error:
        fail(error)
    summary = f"analysed {rows} rows -> {output}"
    if flagged:
        summary += f" ({flagged} rows had no analysable text; see the 'flags' column)"
    if truncated:
        summary += (
            f" ({truncated} rows longer than {MAX_TEXT_CHARS:,} characters were analysed from "
            "their beginning; flag 'truncated')"
        )
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


def _positive_ints(value: str, option: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        typer.echo(f"error: {option} takes positive integers separated by commas", err=True)
        raise typer.Exit(2)
    return numbers


@app.command()
def bench(
    comments: Annotated[
        int,
        typer.Option(
            min=1, help="Real comments for the stage split, the references and the memory run."
        ),
    ] = 20_000,
    sizes: Annotated[
        str, typer.Option(help="Batch sizes timed for throughput and linearity (e.g. add 200000).")
    ] = "1000,5000,20000",
    lengths: Annotated[
        str, typer.Option(help="Comment lengths (chars) timed for linearity in length.")
    ] = "50,200,800,3200",
    model_dir: ModelDir = None,
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON.")
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="Loopback URL of a running vicx service: adds /v1/analyze latency."),
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="API key for --api-url.")] = None,
    api_seconds: Annotated[float, typer.Option(min=1, help="Duration of the API load.")] = 30.0,
    api_concurrency: Annotated[int, typer.Option(min=1, help="Concurrent API clients.")] = 8,
    parallel: Annotated[
        bool, typer.Option("--parallel", help="Time `vicx analyze` one process vs --jobs.")
    ] = False,
    dask: Annotated[
        bool, typer.Option("--dask", help="Time `vicx analyze --engine dask` vs one process.")
    ] = False,
    scale_rows: Annotated[
        int, typer.Option(min=1, help="Rows of the --parallel / --dask runs.")
    ] = 200_000,
    scale_jobs: Annotated[
        int, typer.Option(min=2, help="Processes / Dask workers of those runs.")
    ] = 2,
    million: Annotated[
        bool, typer.Option("--million", help="Time and peak memory of a 1,000,000-row file.")
    ] = False,
    million_rows: Annotated[int, typer.Option(min=1, help="Rows of the --million run.")] = (
        1_000_000
    ),
    verbose: Annotated[bool, typer.Option("--verbose/--quiet", "-v/-q")] = True,
) -> None:
    """Measure throughput, growth, cold start and memory against word_tokenize and TF-IDF+SVM.

    The default run takes a few minutes; --sizes with 200000, --parallel, --dask, --million and
    --api-url add the long or external parts.
    """
    from nlp.bench import run_bench
    from nlp.bench_scale import CliRun, million_run, runs_markdown, scale_runs

    batch_sizes = _positive_ints(sizes, "--sizes")
    comment_lengths = _positive_ints(lengths, "--lengths")
    if api_url is not None:
        from api.loadtest import LoadTestError, check_loopback

        try:
            check_loopback(api_url)
        except LoadTestError as error:
            typer.echo(f"error: --api-url: {error}", err=True)
            raise typer.Exit(2) from error
    configure_logging(verbose)
    scaled: list[CliRun] = []
    big: CliRun | None = None
    try:
        report = run_bench(comments, model_dir, sizes=batch_sizes, lengths=comment_lengths)
        if parallel or dask:
            scaled = scale_runs(
                scale_rows, scale_jobs, parallel=parallel, dask=dask, model_dir=model_dir
            )
        if million:
            big = million_run(million_rows, model_dir)
    except VicxError as error:
        fail(error)
    api_markdown, api_json = None, None
    if api_url is not None:
        from api.bench_api import api_section
        from api.loadtest import LoadTestError

        try:
            api_markdown, api_json = api_section(
                api_url, key=api_key, seconds=api_seconds, concurrency=api_concurrency
            )
        except LoadTestError as error:
            typer.echo(f"error: --api-url: {error}", err=True)
            raise typer.Exit(2) from error
    sections = [report.markdown()]
    if scaled or big is not None:
        sections.append(runs_markdown([*scaled, *([big] if big else [])]))
    if api_markdown is not None:
        sections.append(api_markdown)
    typer.echo("\n\n".join(sections))
    if json_output is not None:
        document = report.as_dict() | {
            "scale_out": [run.as_dict() for run in scaled],
            "million": None if big is None else big.as_dict(),
            "api": api_json,
        }
        json_output.write_text(json.dumps(document, indent=2), encoding="utf-8")


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
import api.cli_batchbench  # noqa: E402
import api.cli_detractor  # noqa: E402
import api.cli_robustness  # noqa: E402
import api.cli_service  # noqa: E402
import api.cli_topics  # noqa: E402
import api.cli_vlsp  # noqa: E402, F401
