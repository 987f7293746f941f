"""``case2code versions``: the versions of a dataset repo, with date, message and counts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Token, Verbose


def versions(
    repo: Annotated[str, typer.Argument(help="Dataset repo on the Hub, ORG/NAME.", show_default=False)],
    token: Token = None,
    verbose: Verbose = False,
) -> None:
    """List the published versions of REPO (from its vX.Y.Z tags and their manifests)."""
    from ..hub import versions as list_versions

    setup_logging(verbose)
    with user_errors():
        found = list_versions(repo, token=token)
    if not found:
        err_console.print(f"{repo}: no versions published yet")
        return
    configs = sorted({config for info in found for config in info.rows})
    table = Table(title=f"{repo}: {len(found)} version(s)", show_header=True)
    for column in ("version", "date", "commit", "message", *configs):
        table.add_column(column, justify="right" if column in configs else "left")
    for info in reversed(found):
        cells = [", ".join(f"{split}={n}" for split, n in info.rows.get(config, {}).items()) for config in configs]
        date = info.date.strftime("%Y-%m-%d %H:%M") if info.date else ""
        table.add_row(info.tag, date, info.commit[:12], info.message or "", *cells)
    err_console.print(table)
    for info in reversed(found):
        typer.echo(f"{info.tag}\t{info.commit}")
