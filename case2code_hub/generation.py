"""Sharded, resumable generation into a work dir: the per-rank stages of :mod:`.pipeline` on a
datatrove executor (local, Slurm, Ray: :mod:`.executors`).

``generate()`` leaves ``<work_dir>/shards/<rank>.jsonl`` plus datatrove's ``logs/completions/<rank>``;
:func:`case2code_hub.builder.assemble` then runs, once, the steps that need every shard. A rerun after
a crash (even ``kill -9``) redoes only the unfinished ranks, and the dataset comes out
byte-identical: ids are content hashes, seeds are per function, and shards, completion markers and
the dataset folder are each written whole and renamed into place.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Case2CodeError, ConfigError, CorpusError, DatasetError
from .executors import ExecutorConfig, make_executor, run_executor
from .pipeline import GenerationConfig, generation_steps, rank_counters
from .utils.logging import get_logger

logger = get_logger(__name__)

CONFIG_FILE = "case2code-config.json"


class RanksFailed(Case2CodeError, RuntimeError):
    """Some ranks did not finish; the finished ones are kept, and a rerun does only the rest."""

    def __init__(self, message: str, *, ranks: list[int] | None = None):
        super().__init__(message)
        self.ranks = list(ranks or [])


@dataclass
class GenerateSummary:
    """What ``generate`` did: ranks finished now and earlier, or the Slurm job it submitted."""

    work_dir: str
    tasks: int
    executor: str
    completed: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    seconds: float = 0.0
    job_id: str | None = None


def shard_path(work_dir: str | Path, rank: int) -> Path:
    return Path(work_dir) / "shards" / f"{rank:05d}.jsonl"


def completion_path(work_dir: str | Path, rank: int) -> Path:
    return Path(work_dir) / "logs" / "completions" / f"{rank:05d}"


def check_corpus(corpus: str) -> None:
    """Fail early, with one line, on a corpus that cannot be read at all.

    Raises:
        CorpusError: a missing local path, or a URL with no data files.
    """
    from .harvest.sources import is_remote, list_remote

    if corpus == "stdlib":
        return
    if is_remote(corpus):
        list_remote(corpus)
        return
    if not Path(corpus).exists():
        raise CorpusError(f"{corpus}: corpus not found (expected 'stdlib', a folder, a .jsonl/.parquet file or an hf:// URL)", path=corpus)


def prepare_work_dir(work_dir: str | Path, config: GenerationConfig, tasks: int) -> None:
    """Tie a work dir to one configuration (resuming with other settings would mix shards), and
    make it consistent after a crash: a rank marked complete whose shard is gone is rerun.

    Raises:
        ConfigError: the work dir was made with other settings.
    """
    work = Path(work_dir)
    wanted = {"generation": config.to_json(), "tasks": tasks}
    marker = work / CONFIG_FILE
    if marker.exists():
        found = json.loads(marker.read_text())
        if found != wanted:
            raise ConfigError(
                f"{work}: work dir was made with other settings ({marker}); use another --work-dir or delete it",
                field="work_dir",
            )
        logger.info("Resuming in %s: finished ranks are kept", work)
    else:
        from .utils.files import atomic_open

        with atomic_open(marker) as handle:
            handle.write(json.dumps(wanted, indent=2, sort_keys=True))
    for rank in range(tasks):
        done = completion_path(work, rank)
        if done.exists() and not shard_path(work, rank).exists():
            logger.warning("rank %d was marked complete but its shard %s is gone: it will be rerun", rank, shard_path(work, rank))
            done.unlink()
        elif done.exists() and (unanswered := rank_counters(work / "logs", rank).get("llm/unanswered", 0)):
            # The writer server gave no answer to some requests (timeouts, 5xx) even after the
            # retries: ask again. The answers received are cached, so only those are sent again.
            logger.info("rank %d finished with %d writer requests unanswered: it will be rerun to ask them again", rank, unanswered)
            done.unlink()
    # Half-written shards of killed ranks (their names start with a dot) are never read; tidy them.
    for stale in (work / "shards").glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)


def read_work_dir(work_dir: str | Path) -> tuple[GenerationConfig, int]:
    """The generation config and the number of ranks a work dir was made with.

    Raises:
        DatasetError: not a work dir.
    """
    marker = Path(work_dir) / CONFIG_FILE
    if not marker.exists():
        raise DatasetError(f"{work_dir}: not a case2code work dir (no {CONFIG_FILE}); run `case2code generate` first", path=str(work_dir))
    found = json.loads(marker.read_text())
    settings = dict(found["generation"])
    if settings.get("generator", "offline") != "offline":
        # Where the writer's server was is not part of the content (nor kept): assembly asks it nothing.
        settings.setdefault("endpoint", "(not recorded)")
    return GenerationConfig(**settings), int(found["tasks"])


def incomplete_ranks(work_dir: str | Path, tasks: int) -> list[int]:
    return [rank for rank in range(tasks) if not completion_path(work_dir, rank).exists()]


CALL_SITES_FILE = "callsites.json"


def _call_site_index(config: GenerationConfig, work: Path) -> Path | None:
    """Index the corpus's call sites once, before the ranks start, so that every rank (however many)
    seeds its search from the same calls; a resumed run keeps the index it wrote."""
    from .harvest.callsites import is_code_corpus, write_index

    if config.search != "coverage" or not is_code_corpus(config.corpus):
        return None
    path = work / CALL_SITES_FILE
    if not path.exists():
        write_index(config.corpus, path)
    return path


def generate(
    config: GenerationConfig,
    work_dir: str | Path,
    *,
    executor: ExecutorConfig | None = None,
    workers: int | None = None,
) -> GenerateSummary:
    """Run the generation stages over the corpus, one shard per rank, skipping finished ranks.

    Args:
        config: what to generate (corpus, seed, writer, limits); fixed for the life of the work dir.
        work_dir: where shards, datatrove logs and completion markers go; rerun to resume.
        executor: how ranks are run (default: local, one rank at a time).
        workers: sandbox worker processes per rank (default: one per core; on Slurm and Ray,
            the executor's ``cpus_per_task``).

    Returns:
        A :class:`GenerateSummary`; for Slurm, the ranks still pending and the job id.

    Raises:
        ConfigError: a bad option or a work dir made with other settings. CorpusError: an
            unreadable corpus (a file that vanished mid-run names the rank and the file).
        RanksFailed: some ranks did not finish (finished ranks are kept).
    """
    executor = executor or ExecutorConfig()
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}", field="workers")
    if workers is None and executor.kind != "local":
        workers = executor.cpus_per_task
    started = time.monotonic()
    check_corpus(config.corpus)
    # Absolute: on Slurm the pickled pipeline runs from another working directory.
    work = Path(work_dir).absolute()
    prepare_work_dir(work, config, executor.tasks)
    # Ranks that may call one LLM server at the same time share its concurrency limit.
    parallel = executor.task_workers or (1 if executor.kind == "local" else executor.tasks)
    call_sites = _call_site_index(config, work)
    steps = generation_steps(
        config, shards_dir=work / "shards", tasks=executor.tasks, workers=workers, parallel_writers=parallel,
        call_sites=call_sites,
    )
    runner = make_executor(steps, executor, logging_dir=work / "logs")
    run_executor(runner, executor)
    pending = incomplete_ranks(work, executor.tasks)
    summary = GenerateSummary(
        work_dir=str(work),
        tasks=executor.tasks,
        executor=executor.kind,
        completed=[rank for rank in range(executor.tasks) if rank not in pending],
        pending=pending,
        seconds=time.monotonic() - started,
        job_id=str(getattr(runner, "job_id", None) or "") or None,
    )
    if pending and executor.waits:
        raise RanksFailed(
            f"ranks {', '.join(map(str, pending))} of {executor.tasks} did not finish (see {work / 'logs' / 'logs'}); "
            "rerun the same command: finished ranks are kept",
            ranks=pending,
        )
    return summary
