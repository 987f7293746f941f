"""``case2code import-official``: the official Case2Code test set as an eval-config folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Verbose, Workers


def import_official_command(
    path: Annotated[str, typer.Argument(help="The official test.jsonl: a path or an http(s) URL.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Eval-config folder to write.")],
    prompt: Annotated[str, typer.Option(help="'official' keeps the official prompts; 'ours' renders our eval template.")] = "official",
    timeout: Annotated[float, typer.Option(help="Seconds per call when re-running references.", min=0.01)] = 2.0,
    check_references: Annotated[bool, typer.Option(help="Score the official reference completions on the result.")] = True,
    limit: Annotated[Optional[int], typer.Option(help="Import only the first N items.", min=1)] = None,
    workers: Workers = None,
    verbose: Verbose = False,
) -> None:
    """Convert the official test set, re-run its references in the sandbox, flag what cannot be reproduced."""
    from ..evaluate.official import import_official

    setup_logging(verbose)
    with user_errors():
        report = import_official(path, out, prompt=prompt, timeout=timeout, workers=workers,
                                 check_references=check_references, limit=limit)
    table = Table(title=f"case2code import-official → {report.out_dir}")
    table.add_column("what")
    table.add_column("items", justify="right")
    table.add_row("items read", str(report.items))
    for reason, count in report.flagged.items():
        table.add_row(f"  flagged: {reason}", str(count))
    table.add_row("kept (scored by default)", str(report.kept))
    for level, count in report.by_difficulty.items():
        table.add_row(f"  {level}", str(count))
    table.add_row("kept with one output for every case", str(report.constant_outputs))
    if report.reference_pass_at_1 is not None:
        table.add_row("reference pass@1 on kept items", f"{report.reference_pass_at_1:.4f}")
    err_console.print(table)
    if report.reference_failures:
        err_console.print(f"[bold red]references failing:[/] {', '.join(report.reference_failures[:10])}")
    typer.echo(str(report.out_dir))
