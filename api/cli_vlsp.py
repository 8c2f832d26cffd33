"""``vicx evaluate-vlsp2018``: the topic machinery on VLSP 2018's own categories, against the
literature. Registered on import (``api/cli.py`` imports this module); trains in memory and
saves no model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli import app, configure_logging, fail
from nlp.errors import InputError, VicxError


@app.command("evaluate-vlsp2018")
def evaluate_vlsp2018(
    domain: Annotated[str, typer.Option(help="hotel, restaurant or all.")] = "all",
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=50, help="Keep the first N reviews of each split: a smoke run, not a result."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train on VLSP 2018 train, tune on dev, print aspect and aspect+polarity micro-F1."""
    from nlp.training.vlsp2018_aspects import DOMAINS, evaluate_domain, vlsp_markdown_table

    configure_logging(verbose)
    try:
        if domain not in (*DOMAINS, "all"):
            raise InputError(f"Unknown domain {domain!r}; valid: {', '.join(DOMAINS)}, all")
        reports = [
            evaluate_domain(d, limit=limit) for d in (DOMAINS if domain == "all" else (domain,))
        ]
    except VicxError as error:
        fail(error)
    typer.echo(vlsp_markdown_table(reports))
    if json_output is not None:
        json_output.write_text(
            json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
