"""``case2code stats [--dataset] FOLDER [--json]``: the input quality of a built dataset folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Verbose, Workers


def stats(
    folder: Annotated[Optional[Path], typer.Argument(help="A dataset folder written by `case2code build`.", show_default=False)] = None,
    dataset: Annotated[Optional[Path], typer.Option(help="The dataset folder (as `eval` and `calibrate` name it).")] = None,
    measure: Annotated[bool, typer.Option("--measure", help="Run the kept cases again in the sandbox with coverage.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout (no table).")] = False,
    workers: Workers = None,
    verbose: Verbose = False,
) -> None:
    """Coverage, returning calls, distinct outputs, exceptions and yield of a dataset's cases."""
    from ..errors import ConfigError
    from ..dataset.folder_stats import folder_quality
    from ..quality import format_lines

    setup_logging(verbose)
    with user_errors():
        if (folder is None) == (dataset is None):
            raise ConfigError("name the dataset folder once: `stats FOLDER` or `stats --dataset FOLDER`", field="dataset")
        folder = folder or dataset
        summary = folder_quality(folder, measure_again=measure, workers=workers)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    source = summary.pop("source")
    table = Table(title=f"input quality of {folder} ({'measured now' if source == 'measured' else 'from the build'})")
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in format_lines(summary):
        table.add_row(label, value)
    err_console.print(table)
