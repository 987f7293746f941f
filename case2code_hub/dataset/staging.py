"""Staging and swap-in for the dataset build: the target check, the swap of the staged folder
into place, and SIGTERM turned into an exception so that a killed build removes its staging folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import DatasetError
from . import card as card_mod


def check_target(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither empty nor an earlier case2code build."""
    if not out.exists():
        return
    if not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; refusing to replace it", path=str(out))
    if any(out.iterdir()) and not card_mod.is_case2code_folder(out):
        raise DatasetError(
            f"{out} is not empty and is not a case2code dataset folder; refusing to overwrite it "
            "(choose another --out or remove it yourself)",
            path=str(out),
        )


def swap_into_place(staged: Path, out: Path) -> None:
    """Replace ``out`` by ``staged``, keeping the previous build until the new one is in place."""
    if not out.exists():
        staged.rename(out)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
    previous = holder / out.name
    try:
        out.rename(previous)
        try:
            staged.rename(out)
        except BaseException:
            previous.rename(out)
            raise
    finally:
        shutil.rmtree(holder, ignore_errors=True)


class _Terminated(BaseException):
    """SIGTERM arrived during a build: unwinds it so the staging folder is removed."""


@contextmanager
def _cleanup_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception for the duration of a build, then die of it as before.

    Only where SIGTERM still has its default action (which would end the process without removing
    the staging folder) and only in the main thread (where Python runs signal handlers). The
    process still ends by SIGTERM, after the cleanup; SIGKILL cannot be caught: it leaves the
    hidden staging folder beside ``out_dir``, never a half-written ``out_dir``.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        raise _Terminated()

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise  # only if the signal is blocked
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
