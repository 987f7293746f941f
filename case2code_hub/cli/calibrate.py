"""``case2code calibrate``: relabel the eval difficulty from models' measured pass rates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Verbose


def calibrate_command(
    dataset: Annotated[Path, typer.Option(help="A case2code dataset folder with an eval config.")],
    results: Annotated[List[Path], typer.Option(help="A `case2code eval --output` file; repeat for more models.")],
    model: Annotated[Optional[List[str]], typer.Option(help="Model name of each results file, in order (default: file names).")] = None,
    verbose: Verbose = False,
) -> None:
    """Relabel difficulty from measured pass rates (KodCode-style) and rewrite the eval splits."""
    from ..evaluate.calibration import calibrate

    setup_logging(verbose)
    with user_errors():
        report = calibrate(dataset, results, models=model or None)
    table = Table(title=f"case2code calibrate → {report.out_dir}")
    table.add_column("level")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    for level in report.before:
        table.add_row(level, str(report.before[level]), str(report.after[level]))
    table.add_row("measured", "", f"{report.measured} of {report.items}")
    table.add_row("changed level", "", str(report.moved))
    err_console.print(table)
    typer.echo(str(report.out_dir))
