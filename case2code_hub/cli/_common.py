"""Pieces every command shares: logging set-up and turning a user error into one line and exit 1."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import Case2CodeError

err_console = Console(stderr=True)


def setup_logging(verbose: bool = False) -> None:
    from rich.logging import RichHandler

    logger = logging.getLogger("case2code_hub")
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        handler = RichHandler(console=err_console, show_path=False, show_time=False)
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the package's own errors (and unreadable files) into one clear line and exit code 1."""
    try:
        yield
    except Case2CodeError as exc:
        # escape: a message may hold brackets (pip install ".[ray]", [Errno 2]) that rich would eat
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(f'{exc.filename}: {exc.strerror}')}", highlight=False,
                          soft_wrap=True)
        raise typer.Exit(1) from None
