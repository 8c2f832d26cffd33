"""``vicx train detractor``: from the corpora, or on a company's own scored survey file.

Registered on ``api.cli.train_app`` when ``api.cli`` imports this module. File reading lives
here; the fitting is ``nlp.training.detractor_scores.fit_on_scores`` on a DataFrame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli import ModelDir, configure_logging, fail, train_app
from nlp.errors import VicxError

SCALES = ("nps", "csat", "ces", "stars")


@train_app.command("detractor")
def train_detractor(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Your scored survey file (CSV, XLSX, JSONL). Omit to train on corpora."
        ),
    ] = None,
    text_column: Annotated[
        str | None, typer.Option("--text-column", "-c", help="Column with the comments.")
    ] = None,
    score_column: Annotated[
        str | None, typer.Option("--score-column", "-s", help="Column with the scores.")
    ] = None,
    scale: Annotated[
        str, typer.Option(help="nps (0-10, detractor 0-6), csat (1-5), ces (1-7) or stars (1-5).")
    ] = "nps",
    cut: Annotated[
        int | None,
        typer.Option(help="Highest score counted as a detractor (default: 6 for nps, else 2)."),
    ] = None,
    mode: Annotated[
        str, typer.Option(help="auto (best cross-validated), recalibrate or refit.")
    ] = "auto",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Model directory to write (default: models, or DATA-models)."
        ),
    ] = None,
    model_dir: ModelDir = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train the detractor head, on the corpora or on your own scored survey file.

    Without --data: star proxies plus the team's NPS-scored comments, into OUTPUT/detractor.

    With --data: fit or recalibrate on your scores; writes a model directory for --model-dir.

    Example: vicx train detractor --data survey.xlsx -c comment -s nps --output my-models
    """
    configure_logging(verbose or data is None)
    if scale not in SCALES:
        typer.echo(f"error: --scale must be one of {', '.join(SCALES)}", err=True)
        raise typer.Exit(2)
    try:
        if data is None:
            _from_corpora(output or Path("models"), model_dir)
        else:
            if text_column is None or score_column is None:
                typer.echo("error: --data needs --text-column and --score-column", err=True)
                raise typer.Exit(2)
            target = output or data.with_name(f"{data.stem}-models")
            _from_scores(data, text_column, score_column, scale, cut, mode, target, model_dir)
    except VicxError as error:
        fail(error)


def _from_corpora(output: Path, model_dir: Path | None) -> None:
    from nlp.detractor_evaluation import markdown_table, reliability_markdown
    from nlp.training.detractor import train_detractor as train

    report = train(output, base_dir=model_dir)
    typer.echo(markdown_table(report.metrics))
    typer.echo("")
    typer.echo(reliability_markdown(report.metrics[0]))
    typer.echo(f"saved {output / 'detractor'} (calibration: {report.calibration})", err=True)


def _from_scores(
    data: Path,
    text_column: str,
    score_column: str,
    scale: str,
    cut: int | None,
    mode: str,
    output: Path,
    model_dir: Path | None,
) -> None:
    import pandas as pd

    from api.tabular import read_chunks
    from nlp.analyzer import Analyzer
    from nlp.detractor_evaluation import markdown_table, reliability_markdown
    from nlp.training.detractor_scores import MODES, fit_on_scores, save_model_dir

    if mode not in MODES:
        typer.echo(f"error: --mode must be one of {', '.join(MODES)}", err=True)
        raise typer.Exit(2)
    frame = pd.concat(list(read_chunks(data, text_column)), ignore_index=True)
    base = Analyzer.load(model_dir)
    head, report = fit_on_scores(
        frame,
        text_column=text_column,
        score_column=score_column,
        scale=scale,  # type: ignore[arg-type]  # checked against SCALES above
        cut=cut,
        base=base,
        mode=mode,  # type: ignore[arg-type]  # checked against MODES above
    )
    save_model_dir(output, head, report, base, source=data.name)
    typer.echo(
        f"{report.rows} scored comments, {report.detractors} detractors "
        f"(score <= {report.cut} on {report.scale}); {report.dropped} rows skipped"
    )
    typer.echo(markdown_table(list(report.cross_validated.values())))
    typer.echo("")
    typer.echo(reliability_markdown(report.chosen))
    typer.echo(f"chosen: {report.mode}")
    typer.echo(
        f"saved model directory {output}; use it with: vicx analyze INPUT --model-dir {output} ...",
        err=True,
    )
