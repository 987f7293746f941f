"""``case2code push``: publish a dataset folder as one tagged version on the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Token, Verbose


def push(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by `case2code build`.", show_default=False)],
    repo: Annotated[str, typer.Option("--repo", help="Dataset repo on the Hub, ORG/NAME.", show_default=False)],
    version: Annotated[str, typer.Option("--version", help="Version X.Y.Z, above every published one.", show_default=False)],
    message: Annotated[Optional[str], typer.Option(help="Release message (default: 'Release vX.Y.Z').")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo private if it does not exist.")] = False,
    create_pr: Annotated[bool, typer.Option("--create-pr", help="Commit as a pull request instead of onto main.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be uploaded; change nothing.")] = False,
    token: Token = None,
    verbose: Verbose = False,
) -> None:
    """Publish FOLDER as version X.Y.Z: one commit with data, card and manifest, then the tag vX.Y.Z."""
    from ..hub import push as run_push

    setup_logging(verbose)
    with user_errors():
        result = run_push(
            folder, repo, version=version, message=message, private=private, create_pr=create_pr, dry_run=dry_run, token=token
        )
    title = f"{'would publish' if result.dry_run else 'published'} {result.repo_id} {result.tag}"
    if result.resumed:
        title += " (tagged the commit an earlier run left)"
    table = Table(title=title, show_header=True)
    table.add_column("file")
    table.add_column("action")
    for name in result.uploaded:
        table.add_row(name, "upload")
    for name in result.deleted:
        table.add_row(name, "delete")
    for name in result.unchanged:
        table.add_row(name, "unchanged")
    err_console.print(table)
    if result.dry_run:
        typer.echo(f"dry run: {len(result.uploaded)} to upload, {len(result.unchanged)} unchanged, {len(result.deleted)} to delete")
    else:
        typer.echo(f"{result.repo_id}@{result.tag} {result.commit}" + (f" {result.pr_url}" if result.pr_url else ""))
