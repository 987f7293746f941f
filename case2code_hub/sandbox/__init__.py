"""The sandbox: runs untrusted functions on their inputs in forked, locked-down children of warm
per-worker zygote processes, and returns canonical outputs.

``Sandbox``/``SandboxConfig``/``execute`` are loaded lazily: the zygote imports this package and
must stay light (no schema, no logging set-up, no datasets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .pool import Sandbox, execute

__all__ = ["Sandbox", "SandboxConfig", "execute"]


def __getattr__(name: str):
    if name == "SandboxConfig":
        from .config import SandboxConfig

        return SandboxConfig
    if name in ("Sandbox", "execute"):
        from . import pool

        return getattr(pool, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
