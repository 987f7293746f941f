"""Corpus readers: the standard library, folders of ``.py`` files, and The Stack-style JSONL / Parquet.

Each yields this rank's deterministic share of the corpus as ``SourceDocument``s; nothing here
parses or runs the code.

Corpus specs:

- ``"stdlib"``: the running interpreter's standard library (GUIs, demos, installers and
  ``site-packages`` are left out; the test suite and idlelib stay in, see ``STDLIB_EXCLUDED_DIRS``).
  The word wins over a folder named so.
- a folder: if it holds any ``.py`` file it is a code folder (its ``.py`` files, recursively);
  otherwise it is a data folder (its ``.jsonl``, ``.jsonl.gz`` and ``.parquet`` files).
- a ``.py`` file, or a ``.jsonl`` / ``.jsonl.gz`` / ``.parquet`` file.
- an fsspec URL to data files: ``hf://datasets/ORG/NAME/PATH`` (The Stack's layout, e.g.
  ``hf://datasets/bigcode/the-stack/data/python``), a glob, or any other protocol fsspec knows
  (``file://``, ``s3://``). Files are streamed (Parquet by row group and only the columns we use,
  JSONL line by line), never downloaded whole.

Sharding: files are dealt out by index (``index % world_size == rank``) over the sorted file list.
A single data file, or a data folder with fewer files than ranks, is dealt out by row instead
(the running row index over all its files; every rank then reads every file, skipping others' rows).
The corpus name recorded in ``Source.corpus`` is ``"stdlib"`` or the corpus path's last component.

Data files: each row needs a ``content`` string. A file whose first row (JSONL) or schema
(Parquet) has no ``content`` column raises ``CorpusError``; later rows that are not valid JSON or
have no string ``content`` are skipped and counted (``rows_skipped/bad_json``,
``rows_skipped/no_content``), since one bad line in a multi-gigabyte dump should not lose it all.
"""

from __future__ import annotations

import gzip
import json
import os
import posixpath
import sysconfig
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import CorpusError
from ..schema import Source
from ..utils.logging import get_logger

logger = get_logger(__name__)

DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")

# Standard-library folders that are GUIs, demos, installers or third-party packages. The test suite,
# idlelib and lib2to3 stay in: their module-level helpers are real, pure functions, and without
# them the stdlib gives too few functions for a dataset (942 against 1297 harvested, measured).
STDLIB_EXCLUDED_DIRS = frozenset(
    {
        "site-packages",
        "dist-packages",
        "tkinter",
        "turtledemo",
        "ensurepip",
        "__pycache__",
        "pydoc_data",
        "__phello__",
        "lib-dynload",
        "venv",
    }
)
STDLIB_REPO = "python/cpython"
STDLIB_LICENSE = "PSF-2.0"

# The Stack's provenance columns, most specific first (v1 uses max_stars_*, v2 and others plain).
PATH_COLUMNS = ("max_stars_repo_path", "path", "max_forks_repo_path", "max_issues_repo_path")
REPO_COLUMNS = ("max_stars_repo_name", "repo_name", "repo", "max_forks_repo_name", "max_issues_repo_name")
LICENSE_COLUMNS = ("max_stars_repo_licenses", "licenses", "license", "detected_licenses", "license_type")
PARQUET_BATCH_ROWS = 1024


@dataclass
class SourceDocument:
    """One source file: ``raw`` bytes (files on disk, decoded by the caller) or ``text`` (data rows)."""

    text: str | None
    raw: bytes | None
    source: Source
    # Dotted package the module belongs to when the sandbox can import that package (standard
    # library only), so relative imports can be made absolute; ``None`` otherwise.
    package: str | None = None


def iter_documents(
    corpus: str | os.PathLike = "stdlib",
    *,
    rank: int = 0,
    world_size: int = 1,
    stats: Counter | None = None,
    on_unreadable: Callable[[CorpusError], None] | None = None,
    strict: bool = False,
) -> Iterator[SourceDocument]:
    """Yield this rank's share of a corpus, in a deterministic order.

    Args:
        corpus: ``"stdlib"``, a folder, a ``.py`` file, or a JSONL / JSONL.gz / Parquet file.
        rank: this worker's index, ``0 <= rank < world_size``.
        world_size: number of workers sharing the corpus.
        stats: counter for skipped rows (``rows_skipped/<reason>``).
        strict: a data row that is not a JSON object, or has no string ``content``, raises
            ``CorpusError`` naming the file and line instead of being skipped and counted.
        on_unreadable: when given, a code file that cannot be read is passed to it and skipped
            instead of raising (a best-effort reader: the call-site index).

    Returns:
        An iterator of ``SourceDocument``.

    Raises:
        CorpusError: missing path, a folder with no usable files, an unknown file type, or a data
            file without a ``content`` column (checked before yielding anything from that file).
    """
    stats = Counter() if stats is None else stats
    if str(corpus) == "stdlib":
        root = Path(sysconfig.get_paths()["stdlib"])
        for index, path in enumerate(_stdlib_files(root)):
            if index % world_size == rank:
                relative = path.relative_to(root)
                document = _read_code(path, Source("stdlib", relative.as_posix(), STDLIB_REPO, STDLIB_LICENSE),
                                      on_unreadable)
                if document is not None:
                    document.package = ".".join(relative.parent.parts) or None
                    yield document
        return

    if is_remote(corpus):
        yield from _iter_remote(str(corpus), rank=rank, world_size=world_size, stats=stats, strict=strict)
        return

    path = Path(corpus)
    if not path.exists():
        raise CorpusError(f"corpus not found: {path}", path=str(path))
    name = corpus_name(corpus)
    if path.is_file():
        if path.name.endswith(".py"):
            document = _read_code(path, Source(name, path.name), on_unreadable) if rank == 0 else None
            if document is not None:
                yield document
            return
        if not path.name.endswith(DATA_SUFFIXES):
            raise CorpusError(
                f"unsupported corpus file {path}: expected .py, .jsonl, .jsonl.gz or .parquet", path=str(path)
            )
        yield from _iter_rows([(path, path.name)], corpus_name=name, rank=rank, world_size=world_size, stats=stats, strict=strict)
        return

    code_files = _sorted_files(path, lambda p: p.name.endswith(".py"))
    if code_files:
        for index, file in enumerate(code_files):
            if index % world_size == rank:
                document = _read_code(file, Source(name, file.relative_to(path).as_posix()), on_unreadable)
                if document is not None:
                    yield document
        return
    data_files = _sorted_files(path, lambda p: p.name.endswith(DATA_SUFFIXES))
    if not data_files:
        raise CorpusError(f"no .py, .jsonl, .jsonl.gz or .parquet files under {path}", path=str(path))
    labelled = [(file, file.relative_to(path).as_posix()) for file in data_files]
    if len(data_files) >= world_size:
        mine = [pair for index, pair in enumerate(labelled) if index % world_size == rank]
        yield from _iter_rows(mine, corpus_name=name, rank=0, world_size=1, stats=stats, strict=strict)
    else:
        yield from _iter_rows(labelled, corpus_name=name, rank=rank, world_size=world_size, stats=stats, strict=strict)


def corpus_name(corpus: str | os.PathLike) -> str:
    """The corpus as rows, cards and manifests name it: ``stdlib``, a Hub repo (``bigcode/the-stack``
    for ``hf://datasets/bigcode/the-stack/...``), else the last component of the path or URL (never
    a local absolute path: it says nothing to a reader and leaks the builder's file system)."""
    if str(corpus) == "stdlib":
        return "stdlib"
    if is_remote(corpus):
        root = str(corpus).split("://", 1)[1].rstrip("/")
        parts = root.split("/")
        if str(corpus).startswith("hf://") and len(parts) >= 3 and parts[0] in ("datasets", "spaces", "models"):
            return "/".join(parts[1:3]).split("@", 1)[0]
        return posixpath.basename(root.split("*", 1)[0].rstrip("/")) or root
    return Path(corpus).resolve().name or str(corpus)


def source_datasets(corpus: str | os.PathLike) -> list[str]:
    """The card's ``source_datasets``: the Hub dataset read (``hf://datasets/...``), else ``original``."""
    if str(corpus).startswith("hf://datasets/"):
        return [corpus_name(corpus)]
    return ["original"]


def is_remote(corpus: str | os.PathLike) -> bool:
    """Whether ``corpus`` is an fsspec URL (``hf://...``, ``file://...``) rather than a local path."""
    return "://" in str(corpus)


def list_remote(corpus: str) -> tuple[Any, list[str]]:
    """The filesystem and the sorted data files of an fsspec URL (a folder, a glob, or one file).

    Raises:
        CorpusError: nothing found, or the URL cannot be listed.
    """
    from fsspec.core import url_to_fs

    try:
        fs, root = url_to_fs(corpus)
        if any(char in root for char in "*?["):
            found = fs.glob(root)
        elif fs.isdir(root):
            found = fs.find(root)
        elif fs.isfile(root):
            found = [root]
        else:
            raise CorpusError(f"corpus not found: {corpus}", path=corpus)
    except CorpusError:
        raise
    except Exception as exc:  # each fsspec backend raises its own errors (HTTP, auth, ...)
        raise CorpusError(f"cannot list corpus {corpus}: {exc}", path=corpus) from exc
    files = sorted(str(f) for f in found if str(f).endswith(DATA_SUFFIXES))
    if not files:
        raise CorpusError(f"no .jsonl, .jsonl.gz or .parquet files at {corpus}", path=corpus)
    return fs, files


def _iter_remote(corpus: str, *, rank: int, world_size: int, stats: Counter, strict: bool = False) -> Iterator[SourceDocument]:
    fs, files = list_remote(corpus)
    name = corpus_name(corpus)
    prefix = os.path.commonpath(files) if len(files) > 1 else posixpath.dirname(files[0])
    labelled = [(file, posixpath.relpath(file, prefix)) for file in files]
    if len(files) >= world_size:
        mine = [pair for index, pair in enumerate(labelled) if index % world_size == rank]
        yield from _iter_rows(mine, corpus_name=name, rank=0, world_size=1, stats=stats, fs=fs, strict=strict)
    else:
        yield from _iter_rows(labelled, corpus_name=name, rank=rank, world_size=world_size, stats=stats, fs=fs, strict=strict)


def _sorted_files(root: Path, keep) -> list[Path]:
    # Sorted by relative posix path, so the order (and thus the sharding) is the same everywhere.
    found = [p for p in root.rglob("*") if p.is_file() and keep(p) and "__pycache__" not in p.parts]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _stdlib_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        # Pruning in place keeps os.walk out of excluded trees (site-packages can be large).
        dirs[:] = [d for d in dirs if d not in STDLIB_EXCLUDED_DIRS and not d.startswith("config-")]
        found.extend(Path(folder, f) for f in files if f.endswith(".py"))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _read_code(path: Path, source: Source, on_unreadable: Callable[[CorpusError], None] | None) -> SourceDocument | None:
    try:
        return _read_file(path, source)
    except CorpusError as exc:
        if on_unreadable is None:
            raise
        on_unreadable(exc)
        return None


def _read_file(path: Path, source: Source) -> SourceDocument:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror or exc}", path=str(path)) from exc
    return SourceDocument(text=None, raw=raw, source=source)


def _iter_rows(
    files: list[tuple[Any, str]], *, corpus_name: str, rank: int, world_size: int, stats: Counter, fs: Any = None,
    strict: bool = False,
) -> Iterator[SourceDocument]:
    """Rows of the files in order, dealt out by their running index over all the files.

    ``fs``: the fsspec filesystem the paths are on; ``None`` for local ``Path``s."""
    position = 0
    for path, label in files:
        rows = _parquet_rows(path, fs) if str(path).endswith(".parquet") else _jsonl_rows(path, stats, fs, strict)
        for index, row in enumerate(rows):
            mine = position % world_size == rank
            position += 1
            if not mine or row is None:
                continue
            content = row.get("content")
            if not isinstance(content, str):
                if strict:
                    raise CorpusError(f"{label}: row {index + 1} has no string 'content' (--strict)", path=str(path))
                stats["rows_skipped/no_content"] += 1
                continue
            source = Source(
                corpus_name,
                _first(row, PATH_COLUMNS) or f"{label}#{index}",
                _first(row, REPO_COLUMNS),
                _first(row, LICENSE_COLUMNS),
            )
            yield SourceDocument(text=content, raw=None, source=source)


def _first(row: dict[str, Any], columns: tuple[str, ...]) -> str | None:
    for column in columns:
        value = row.get(column)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value if v is not None)
        if value not in (None, ""):
            return str(value)
    return None


@contextmanager
def _open_binary(path: Any, fs: Any) -> Iterator[Any]:
    with fs.open(path, "rb") if fs is not None else open(path, "rb") as handle:
        if str(path).endswith(".gz"):
            with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
                yield unzipped
        else:
            yield handle


def _jsonl_rows(path: Any, stats: Counter, fs: Any = None, strict: bool = False) -> Iterator[dict[str, Any] | None]:
    """Rows of a JSONL file; ``None`` stands in for a bad line so row indices stay line-based."""
    checked = False
    try:
        with _open_binary(path, fs) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    if strict:
                        raise CorpusError(f"{path}:{number}: not a JSON object (--strict)", path=str(path))
                    stats["rows_skipped/bad_json"] += 1
                    logger.debug("%s:%d: not a JSON object, skipped", path, number)
                    yield None
                    continue
                if not checked:
                    if "content" not in row:
                        raise CorpusError(f"{path} has no 'content' column (first row's keys: {sorted(row)})", path=str(path))
                    checked = True
                yield row
    except CorpusError:  # ours, already naming the file (it is an OSError too)
        raise
    except (OSError, EOFError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}", path=str(path)) from exc


def _parquet_rows(path: Any, fs: Any = None) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    handle = None
    try:
        # A remote file is opened for random access: pyarrow reads the footer, then only the
        # byte ranges of the row groups and columns it needs.
        handle = fs.open(path, "rb") if fs is not None else None
        parquet = pq.ParquetFile(handle if handle is not None else path)
    except FileNotFoundError as exc:
        raise CorpusError(f"cannot read corpus file {path}: it vanished", path=str(path)) from exc
    except Exception as exc:  # pyarrow raises its own ArrowInvalid for a file that is not Parquet
        raise CorpusError(f"cannot read {path} as Parquet: {exc}", path=str(path)) from exc
    try:
        yield from _parquet_batches(parquet, path)
    finally:
        if handle is not None:
            handle.close()


def _parquet_batches(parquet: Any, path: Any) -> Iterator[dict[str, Any]]:
    names = parquet.schema_arrow.names
    if "content" not in names:
        raise CorpusError(f"{path} has no 'content' column (columns: {sorted(names)})", path=str(path))
    wanted = {"content", *PATH_COLUMNS, *REPO_COLUMNS, *LICENSE_COLUMNS}
    columns = [name for name in names if name in wanted]
    # Row-group batches keep memory bounded however large the file is.
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
        yield from batch.to_pylist()
