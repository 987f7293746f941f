"""``case2code stats FOLDER``: the input quality of a built dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Verbose, Workers


def stats(
    folder: Annotated[Path, typer.Argument(help="A dataset folder written by `case2code build`.")],
    measure: Annotated[bool, typer.Option("--measure", help="Run the kept cases again in the sandbox with coverage.")] = False,
    workers: Workers = None,
    verbose: Verbose = False,
) -> None:
    """Coverage, returning calls, distinct outputs, exceptions and yield of a dataset's cases."""
    from ..quality import folder_quality, format_lines

    setup_logging(verbose)
    with user_errors():
        summary = folder_quality(folder, measure_again=measure, workers=workers)
    source = summary.pop("source")
    table = Table(title=f"input quality of {folder} ({'measured now' if source == 'measured' else 'from the build'})")
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in format_lines(summary):
        table.add_row(label, value)
    err_console.print(table)
