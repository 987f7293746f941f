"""Release version numbers: ``X.Y.Z`` parsing and what one published version is (:class:`VersionInfo`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import VersionError

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


@dataclass
class VersionInfo:
    """One published version: its tag, commit, date and what its manifest says."""

    version: str
    tag: str
    commit: str
    date: datetime | None
    message: str | None
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    difficulty: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    toolkit_version: str | None = None


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` or ``"v1.2.3"`` as a tuple of ints.

    Raises:
        VersionError: not of the form ``X.Y.Z``.
    """
    match = _VERSION.fullmatch(str(version).strip())
    if match is None:
        raise VersionError(f"version must look like 1.2.3, got {version!r}", version=str(version))
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _version_str(parts: tuple[int, int, int]) -> str:
    return ".".join(map(str, parts))
