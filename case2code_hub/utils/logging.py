"""Library logging and progress bars, in the manner of ``huggingface_hub.utils.logging``.

The library never prints: it logs under the ``case2code_hub`` logger and shows rich progress bars
that ``CASE2CODE_DISABLE_PROGRESS_BARS=1`` (or ``HF_HUB_DISABLE_PROGRESS_BARS=1``) switches off.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterator

_ROOT = "case2code_hub"


def get_logger(name: str | None = None) -> logging.Logger:
    """Return the package logger, or a child of it (``get_logger(__name__)``)."""
    if name is None or name == _ROOT:
        return logging.getLogger(_ROOT)
    if not name.startswith(_ROOT):
        name = f"{_ROOT}.{name}"
    return logging.getLogger(name)


def progress_disabled() -> bool:
    for var in ("CASE2CODE_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}:
            return True
    return False


class _NullProgress:
    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        pass

    def advance(self, *args, **kwargs) -> None:
        pass


@contextmanager
def progress() -> Iterator:
    """A rich ``Progress`` on stderr, or a no-op stand-in when progress bars are disabled."""
    if progress_disabled():
        yield _NullProgress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        yield bar
