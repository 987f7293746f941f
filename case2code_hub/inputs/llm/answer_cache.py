"""A disk cache of writer-model responses, so a rerun or a resumed shard pays for no answer twice.

One JSON file per request under ``<dir>/<key[:2]>/<key>.json``, where the key is the sha256 of
the canonical JSON of what decides the answer: the model id the server reports, the route, the
prompt and the sampling parameters (never the endpoint URL, never the token). Each file appears
whole or not at all (written aside, then renamed), so a run killed at any moment leaves only
complete answers behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from ...utils.logging import get_logger

logger = get_logger(__name__)


def cache_key(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``fields``: the same on every machine and run."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """Responses on disk by key. Safe to share between processes (renames are atomic).

    ``directory`` may be several folders (a run's work dir and the user's cache): an answer is
    read from the first that has it and written to all, so a work dir stays complete on its own
    and a build without one still finds what an earlier build asked.
    """

    def __init__(self, directory: str | os.PathLike | list[str | os.PathLike]) -> None:
        folders = directory if isinstance(directory, list) else [directory]
        self.directories = [Path(folder) for folder in folders]
        self.directory = self.directories[0]
        for folder in self.directories:
            folder.mkdir(parents=True, exist_ok=True)
        self._counter = 0
        self._lock = threading.Lock()

    def path(self, key: str, directory: Path | None = None) -> Path:
        return (directory or self.directory) / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or None (also for a file left unreadable by a power cut)."""
        for directory in self.directories:
            path = self.path(key, directory)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            try:
                record = json.loads(text)
                return record["response"]
            except (ValueError, KeyError, TypeError):
                logger.warning("ignoring an unreadable cache entry %s", path.name)
        return None

    def put(self, key: str, response: dict[str, Any], *, fields: dict[str, Any] | None = None) -> None:
        """Store ``response`` under ``key`` (with the key's ``fields``, for whoever reads the files)."""
        record = json.dumps({"key": fields or {}, "response": response}, sort_keys=True, ensure_ascii=False)
        for directory in self.directories:
            path = self.path(key, directory)
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._counter += 1
                tmp = path.with_name(f".{path.name}.{os.getpid()}-{self._counter}.tmp")
            # No fsync: a killed process loses nothing the kernel has; only a power cut could leave a
            # torn file, which ``get`` treats as a miss. Syncing every answer would stall the event loop.
            try:
                tmp.write_text(record, encoding="utf-8")
                os.replace(tmp, path)
            finally:
                if tmp.exists():
                    tmp.unlink()

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("??/*.json"))
