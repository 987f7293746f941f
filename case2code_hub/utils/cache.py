"""The user's cache folder, where work that depends only on its inputs is kept between runs.

Like the Hugging Face libraries' ``HF_HOME``: ``CASE2CODE_CACHE`` when set, else
``$XDG_CACHE_HOME/case2code``, else ``~/.cache/case2code``. What goes there is named by a digest of
everything it was made from (contents, interpreter, format), so a stale entry is never read, only
left behind; deleting the folder is always safe. ``CASE2CODE_CACHE=off`` turns caching off.
"""

from __future__ import annotations

import os
from pathlib import Path

OFF = ("off", "0", "false", "no", "none")


def cache_dir() -> Path | None:
    """The cache folder (not created here), or ``None`` when caching is switched off."""
    chosen = os.environ.get("CASE2CODE_CACHE", "").strip()
    if chosen.lower() in OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "case2code"
