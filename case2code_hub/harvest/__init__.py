"""Harvest: corpus files to self-contained, filtered, de-duplicated ``Function`` records.

Static analysis only (``ast``): corpus code is never imported, executed or evaluated here.
Stats keys: ``files_read``, ``files_skipped/<decode_error|syntax_error|too_large>``,
``rows_skipped/<reason>``, ``functions_seen``, ``dropped/<reason>`` (see ``filters``), ``kept``.
"""

from __future__ import annotations

import ast
import os
from collections import Counter
from typing import Iterator

from ..errors import ConfigError
from ..schema import Function, Source, function_id
from ..utils.logging import get_logger
from .dedup import Deduplicator, fingerprint
from .functions import ModuleIndex, SelfContained, parameter_names
from .filters import FilterConfig, compile_reason, count_drop, length_reason, side_effect_reason, signature_reason
from .sources import SourceDocument, iter_documents
from ..utils.syntax import parse_ast

__all__ = [
    "Deduplicator",
    "FilterConfig",
    "ModuleIndex",
    "SelfContained",
    "SourceDocument",
    "fingerprint",
    "harvest",
    "harvest_module",
    "iter_documents",
]

logger = get_logger(__name__)

MAX_FILE_BYTES = 1_000_000  # bigger files are data or generated code, and slow to parse


def harvest(
    corpus: str | os.PathLike = "stdlib",
    *,
    rank: int = 0,
    world_size: int = 1,
    stats: Counter | None = None,
    min_chars: int = 50,
    max_chars: int = 4000,
    max_lines: int = 150,
    stdlib_imports_only: bool = True,
    dedup: bool = True,
    strict: bool = False,
) -> Iterator[Function]:
    """Stream this rank's self-contained functions from a corpus, in a deterministic order.

    Args:
        corpus: ``"stdlib"``, a folder of ``.py`` files, or JSONL / JSONL.gz / Parquet with a
            ``content`` column (a file or a folder of them); see ``sources``.
        rank: this worker's index, ``0 <= rank < world_size``.
        world_size: number of workers sharing the corpus.
        stats: counter to fill (see the module docstring for its keys).
        min_chars: drop functions whose self-contained code is shorter.
        max_chars: drop functions whose self-contained code is longer.
        max_lines: drop functions whose self-contained code has more lines.
        stdlib_imports_only: drop functions that import anything outside the standard library.
        dedup: drop exact and near duplicates (within this rank; across ranks the fingerprints
            let a later stage do it).
        strict: a bad data row (not JSON, no ``content``) raises instead of being skipped.

    Returns:
        An iterator of ``Function``.

    Raises:
        ConfigError: a bad option (``field`` names it).
        CorpusError: the corpus cannot be read at all (never for one bad file in it).
    """
    if world_size < 1:
        raise ConfigError(f"world_size must be >= 1, got {world_size}", field="world_size")
    if not 0 <= rank < world_size:
        raise ConfigError(f"rank must be in [0, {world_size}), got {rank}", field="rank")
    config = FilterConfig(min_chars=min_chars, max_chars=max_chars, max_lines=max_lines, stdlib_imports_only=stdlib_imports_only)
    stats = Counter() if stats is None else stats
    deduplicator = Deduplicator() if dedup else None
    for document in iter_documents(corpus, rank=rank, world_size=world_size, stats=stats, strict=strict):
        stats["files_read"] += 1
        tree_and_text = _parse(document, stats)
        if tree_and_text is None:
            continue
        functions = harvest_module(*tree_and_text, source=document.source, package=document.package, config=config, stats=stats)
        for function in functions:
            reason = deduplicator.check(function) if deduplicator is not None else None
            if reason is not None:
                count_drop(stats, reason)
                continue
            stats["kept"] += 1
            yield function


def harvest_module(
    tree: ast.Module,
    text: str,
    *,
    source: Source,
    package: str | None = None,
    config: FilterConfig | None = None,
    stats: Counter | None = None,
) -> Iterator[Function]:
    """Self-contained functions of one parsed module that pass the filters (no de-duplication).

    Args:
        tree: the module's ``ast``.
        text: the module's source text (for exact source segments).
        source: provenance recorded on each function.
        package: dotted package of the module, when relative imports may be made absolute.
        config: filter bounds; defaults to ``FilterConfig()``.
        stats: counter for ``functions_seen`` and ``dropped/<reason>``.

    Returns:
        An iterator of ``Function`` in source order.
    """
    config = FilterConfig() if config is None else config
    stats = Counter() if stats is None else stats
    index = ModuleIndex(tree, text, package=package)
    for node in index.functions():
        stats["functions_seen"] += 1
        reason = signature_reason(node)
        contained = None
        if reason is None:
            contained = index.self_contained(node)
            reason = contained.reason or _code_reason(contained, config)
        if reason is not None:
            count_drop(stats, reason)
            logger.debug("%s: %s dropped (%s)", source.path, node.name, reason)
            continue
        yield Function(
            id=function_id(contained.code),
            entry_point=node.name,
            code=contained.code,
            source=source,
            params=parameter_names(node),
            fingerprint=fingerprint(node),
        )


def _code_reason(contained: SelfContained, config: FilterConfig) -> str | None:
    reason = length_reason(contained.code, config=config)
    if reason is not None:
        return reason
    try:
        tree = parse_ast(contained.code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "compile_error"
    return side_effect_reason(contained, tree, stdlib_imports_only=config.stdlib_imports_only) or compile_reason(contained.code)


def _parse(document: SourceDocument, stats: Counter) -> tuple[ast.Module, str] | None:
    path = document.source.path
    text = document.text
    if text is None:
        raw = document.raw or b""
        if len(raw) > MAX_FILE_BYTES:
            stats["files_skipped/too_large"] += 1
            logger.debug("%s: skipped, %d bytes", path, len(raw))
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            stats["files_skipped/decode_error"] += 1
            logger.debug("%s: skipped, not UTF-8 (%s)", path, exc.reason)
            return None
    elif len(text) > MAX_FILE_BYTES:
        stats["files_skipped/too_large"] += 1
        logger.debug("%s: skipped, %d characters", path, len(text))
        return None
    try:
        return parse_ast(text, filename=path), text
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        # ValueError: null bytes; RecursionError / MemoryError: absurdly nested expressions.
        stats["files_skipped/syntax_error"] += 1
        logger.debug("%s: skipped, does not parse (%s)", path, exc)
        return None
