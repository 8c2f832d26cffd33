"""``vicx bench-robustness``: the slowest hostile comment, per pipeline step.

Registered on import by ``api/cli.py``. The cases and the contract check live in
:mod:`nlp.robustness`; this module only runs them and prints the table the README quotes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli import ModelDir, app, fail
from nlp.errors import VicxError


@app.command("bench-robustness")
def bench_robustness(
    model_dir: ModelDir = None,
    naughty: Annotated[
        Path | None,
        typer.Option(
            help="JSON file of hand-written hostile strings by category "
            "(default: tests/data/naughty_strings.json of the source checkout)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Slowest comments listed per step.")] = 5,
    repeats: Annotated[
        int, typer.Option(min=1, help="Runs per comment; the best one is reported.")
    ] = 3,
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Also write every timing as JSON.")
    ] = None,
) -> None:
    """Time every naughty string and generated hostile text (1 MB comments, regex traps, every
    vowel x tone mark) through normalise, PII redaction and Analyzer.analyze, one at a time.

    Exits with 1 when a result breaks the Result contract.
    """
    from nlp.analyzer import Analyzer
    from nlp.robustness import NAUGHTY_STRINGS_FILE, run_robustness

    naughty_file = naughty or NAUGHTY_STRINGS_FILE
    if not naughty_file.is_file():
        typer.echo(f"error: {naughty_file} not found (pass --naughty)", err=True)
        raise typer.Exit(2)
    try:
        report = run_robustness(Analyzer.load(model_dir), naughty_file, repeats)
    except VicxError as error:
        fail(error)
    typer.echo(report.markdown(top))
    if json_output is not None:
        json_output.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    for case, problems in report.contract_problems.items():
        typer.echo(f"contract broken by {case}: {'; '.join(problems)}", err=True)
    if report.contract_problems:
        raise typer.Exit(1)
