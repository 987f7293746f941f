"""An external sort: items go in in any order, come back out sorted by key, and only a bounded
buffer of them is ever in memory.

Items are buffered until they weigh about ``run_bytes``, then sorted and written as one *run* file
(length-free pickle frames, read back with repeated ``pickle.load``); :meth:`SortedRuns.merged`
heap-merges the runs. An input that never fills the buffer never touches the disk. Keys must be
unique (the builder uses ``(id, input index)``), so the merged order is a total order and does not
depend on how the input happened to be cut into runs.

The run files live in a folder the caller owns (the builder's staging folder), so whatever removes
that folder on failure removes them too.
"""

from __future__ import annotations

import heapq
import os
import pickle
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

_PROTOCOL = pickle.HIGHEST_PROTOCOL
_IO_BUFFER = 1 << 20
# Per-item bookkeeping beside the payload bytes (tuple, key, list slot), for the run-size estimate.
_ITEM_OVERHEAD = 200

_first = itemgetter(0)


def _read_run(path: Path) -> Iterator[tuple[Any, Any]]:
    with open(path, "rb", buffering=_IO_BUFFER) as handle:
        while True:
            # A fresh unpickler per item: one kept across items memoises (and keeps alive) them all.
            try:
                yield pickle.load(handle)
            except EOFError:
                return


class SortedRuns:
    """Sorted runs of ``(key, item)`` pairs under ``folder``.

    Args:
        folder: where run files go (created on the first spill).
        run_bytes: approximate in-memory size of a run; ``size`` given to :meth:`add` counts
            towards it.
        fan_in: the most runs merged at once; more runs are first merged into bigger ones (so an
            input of any size needs at most this many open files).
    """

    def __init__(self, folder: str | os.PathLike, *, run_bytes: int = 32 << 20, fan_in: int = 64):
        if fan_in < 2:
            raise ValueError(f"fan_in must be at least 2, got {fan_in}")
        self.folder = Path(folder)
        self.run_bytes = run_bytes
        self.fan_in = fan_in
        self.paths: list[Path] = []
        self._buffer: list[tuple[Any, Any]] = []
        self._buffered = 0
        self._written = 0
        self._finished = False

    def add(self, key: Any, item: Any, size: int = 0) -> None:
        """Buffer one item; ``size`` is its approximate weight in bytes (e.g. a payload's length)."""
        if self._finished:
            raise RuntimeError("SortedRuns.add after finish()")
        self._buffer.append((key, item))
        self._buffered += size + _ITEM_OVERHEAD
        if self._buffered >= self.run_bytes:
            self._spill()

    def _new_path(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"run-{self._written:06d}.pkl"
        self._written += 1
        return path

    @staticmethod
    def _write(path: Path, pairs: Iterator[tuple[Any, Any]] | list[tuple[Any, Any]]) -> None:
        with open(path, "wb", buffering=_IO_BUFFER) as handle:
            # One Pickler per item: a shared one would memoise (and keep alive) every item written.
            for pair in pairs:
                handle.write(pickle.dumps(pair, protocol=_PROTOCOL))

    def _spill(self) -> None:
        if not self._buffer:
            return
        self._buffer.sort(key=_first)
        path = self._new_path()
        self._write(path, self._buffer)
        self.paths.append(path)
        self._buffer = []
        self._buffered = 0

    def _compact(self) -> None:
        """Merge runs ``fan_in`` at a time into bigger ones until at most ``fan_in`` are left."""
        while len(self.paths) > self.fan_in:
            group, self.paths = self.paths[: self.fan_in], self.paths[self.fan_in :]
            path = self._new_path()
            self._write(path, heapq.merge(*(_read_run(p) for p in group), key=_first))
            for old in group:
                old.unlink()
            self.paths.append(path)

    def finish(self) -> None:
        """No more items: spill the buffer if anything was spilled before (else keep it in memory)."""
        if self._finished:
            return
        self._finished = True
        if self.paths:
            self._spill()
            self._compact()
        else:
            self._buffer.sort(key=_first)

    def merged(self) -> Iterator[tuple[Any, Any]]:
        """All ``(key, item)`` pairs in key order; may be called again for another pass."""
        self.finish()
        if not self.paths:
            return iter(self._buffer)
        return heapq.merge(*(_read_run(p) for p in self.paths), key=_first)

    def cleanup(self) -> None:
        """Remove the run files (the folder too, if it is then empty) and drop the buffer."""
        self._buffer = []
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths = []
        try:
            self.folder.rmdir()
        except OSError:
            pass
