"""The generation stages as datatrove ``PipelineStep``s, and the executor that runs them.

corpus --HarvestStep--> Function --WriteInputsStep--> inputs --ExecuteStep (sandbox)--> cases
      --SelectCasesStep--> kept cases --WriteShardStep--> ``<work_dir>/shards/<rank>.jsonl``

Each rank reads its own share of the corpus and writes one shard, atomically (write, then
rename), so datatrove's ``completions/`` markers and our shards agree after any crash: a rerun
skips finished ranks. Global work that needs every shard (cross-shard dedup, the train/eval
split, difficulty thresholds) happens afterwards in :mod:`case2code_hub.builder`.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal

from datatrove.pipeline.base import PipelineStep

from .errors import Case2CodeError, ConfigError, CorpusError
from .schema import Case, ExecutionTask, Function, has_address

if TYPE_CHECKING:
    from .inputs import InputWriter



def _quiet_datatrove() -> None:
    """datatrove logs every rank's start and a stats box to stderr at INFO; keep those in its log
    files and let only warnings reach the console, unless CASE2CODE_VERBOSE is set."""
    if os.environ.get("CASE2CODE_VERBOSE"):
        return
    import datatrove.executor.base as executor_base
    from datatrove.utils import logging as dt_logging

    if getattr(executor_base.add_task_logger, "_case2code_quiet", False):
        return

    def console(record) -> bool:
        # A rank that stopped on a user error (a bad corpus row, a missing file) is reported once,
        # in one line, by the command; its traceback stays in the rank's log file.
        caught = record["exception"]
        return not (caught is not None and isinstance(caught.value, Case2CodeError))

    def add_console_sink() -> None:
        # No variable values in tracebacks (diagnose): a local may hold a token.
        dt_logging.logger.add(sys.stderr, level="WARNING", format="datatrove {level}: {message}", filter=console,
                              diagnose=False)

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        dt_logging.logger.remove()
        logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
        dt_logging.logger.add(logfile, level="DEBUG", diagnose=False)
        add_console_sink()
        dt_logging.logger.info(f"Launching pipeline for {rank=}")
        return logfile

    def setup_default_logger():
        dt_logging.logger.remove()
        add_console_sink()

    add_task_logger._case2code_quiet = True
    executor_base.add_task_logger = add_task_logger
    # close_task_logger re-adds an INFO sink on stderr through this module-level function.
    dt_logging.setup_default_logger = setup_default_logger


_quiet_datatrove()


@dataclass
class Item:
    """What flows between the steps of one rank: a function and what has been learnt about it."""

    function: Function
    inputs: list[str] = field(default_factory=list)
    # Which writer proposed each input (parallel to ``inputs``: ``WrittenInputs.writers``); empty
    # means the offline writer.
    input_writers: list[str] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    status: str = ""
    # The sandbox's coverage of each case (parallel to ``cases``), and the kept cases' quality.
    coverage: list | None = None
    quality: dict[str, Any] | None = None


@dataclass
class GenerationConfig:
    """Everything that decides the content of the shards (hashed to guard a resumed work dir)."""

    corpus: str = "stdlib"
    seed: int = 0
    max_functions: int | None = None
    generator: Literal["offline", "tgi", "openai"] = "offline"
    # For the LLM writers: the server, the model name (OpenAI-style routes), a concurrency cap,
    # and whether the offline writer's mutations of the model's inputs are added (EvalPlus-style).
    endpoint: str | None = None
    model: str | None = None
    concurrency: int | None = None
    llm_inputs: int = 10
    mix_mutations: bool = True
    n_candidates: int = 24
    n_cases: int = 10
    max_raised_share: float = 0.3
    timeout: float = 1.0
    memory_mb: int = 512
    min_chars: int = 50
    max_chars: int = 8000
    max_lines: int = 300
    # The offline writer's coverage-guided search against the sandbox ("none": one-shot writer),
    # with the budget scripts/bench_inputs.py measures (720 calls per function; the search stops
    # earlier when everything is covered: 112 calls on average over the official functions).
    search: Literal["coverage", "none"] = "coverage"
    search_calls: int = 720
    # A bad corpus row (not JSON, no string content) stops the run instead of being skipped and
    # counted. Not part of the content: a run that succeeds under it skipped nothing.
    strict: bool = False

    def __post_init__(self) -> None:
        if self.search not in ("coverage", "none"):
            raise ConfigError(f"search must be coverage or none, got {self.search!r}", field="search")
        if self.search_calls < self.n_cases:
            raise ConfigError(f"search_calls must be >= n_cases, got {self.search_calls}", field="search_calls")
        if self.generator not in ("offline", "tgi", "openai"):
            raise ConfigError(f"generator must be offline, tgi or openai, got {self.generator!r}", field="generator")
        if self.generator != "offline" and not self.endpoint:
            raise ConfigError(f"--generator {self.generator} needs --endpoint URL", field="endpoint")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError(f"concurrency must be >= 1, got {self.concurrency}", field="concurrency")
        if self.max_functions is not None and self.max_functions < 1:
            raise ConfigError(f"max_functions must be >= 1, got {self.max_functions}", field="max_functions")
        if self.n_cases < 5:
            raise ConfigError(f"n_cases must be >= 5, got {self.n_cases}", field="n_cases")
        if self.n_candidates < self.n_cases:
            raise ConfigError("n_candidates must be >= n_cases", field="n_candidates")
        if not 0 <= self.max_raised_share < 1:
            raise ConfigError("max_raised_share must be in [0, 1)", field="max_raised_share")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be > 0, got {self.timeout}", field="timeout")
        if self.memory_mb < 64:
            raise ConfigError(f"memory_mb must be >= 64, got {self.memory_mb}", field="memory_mb")

    def to_json(self) -> dict[str, Any]:
        """The settings that decide the shards' content (where the server is, and how hard it is
        driven, do not: a resumed run may reach the same model on another port)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("endpoint", "concurrency", "strict")}


def _paired(items: Iterator[Item], request: Callable[[Item], Any],
            answer: Callable[[Iterator[Any]], Iterator[Any]]) -> Iterator[tuple[Item, Any]]:
    """Each item with its answer: ``answer`` gets ``request(item)`` for every item, reads them
    ahead of what it has answered (a window of functions in flight) and answers in order; the
    items, which carry more than the request, wait here meanwhile."""
    pending: deque[Item] = deque()

    def requests() -> Iterator[Any]:
        for item in items:
            pending.append(item)
            yield request(item)

    for answered in answer(requests()):
        yield pending.popleft(), answered


class HarvestStep(PipelineStep):
    """Reads this rank's share of the corpus and yields self-contained, filtered functions."""

    name = "harvest"
    type = "📖 - READER"

    def __init__(self, config: GenerationConfig, world_size: int):
        super().__init__()
        self.config = config
        self.world_size = world_size

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[Item]:
        from .harvest import harvest

        limit = None
        if self.config.max_functions is not None:
            # Each rank takes an equal slice of the limit, so the total is deterministic.
            limit = -(-self.config.max_functions // self.world_size)
        counts: Counter[str] = Counter()
        produced = 0
        try:
            for function in harvest(
                self.config.corpus,
                rank=rank,
                world_size=world_size,
                stats=counts,
                min_chars=self.config.min_chars,
                max_chars=self.config.max_chars,
                max_lines=self.config.max_lines,
                strict=self.config.strict,
            ):
                produced += 1
                yield Item(function=function)
                if limit is not None and produced >= limit:
                    break  # before the next is read: the card counts only the functions used
        except CorpusError as exc:
            # Ranks run in parallel and on other machines: say which one met the bad file.
            raise CorpusError(f"rank {rank}: {exc}", path=exc.path) from exc
        finally:
            for key, value in counts.items():
                self.stat_update(f"harvest/{key}", value=value)


class WriteInputsStep(PipelineStep):
    """Proposes candidate argument lists for each function with one input writer
    (``inputs.InputWriter``, built by ``_writer``): the coverage-guided search against the sandbox
    (``search="coverage"``, seeded by an LLM's inputs when there is one) or one shot (``"none"``:
    the offline writer, or the LLM's inputs and mutants of them), with an LLM behind TGI / an
    OpenAI-style server (its answers cached under ``cache_dir``, so a resumed rank pays for no
    request twice). The token is never stored here: the client resolves it at run time
    (``HF_TOKEN``, the saved login), so a pickled pipeline (Slurm) never holds it."""

    name = "write inputs"
    type = "✍️ - WRITER"

    def __init__(self, config: GenerationConfig, cache_dir: str | list[str] | None = None, parallel_writers: int = 1,
                 workers: int | None = None, call_sites: str | None = None):
        super().__init__()
        self.config = config
        self.cache_dir = cache_dir
        self.call_sites = call_sites  # the corpus's call-site index (a path), read by each rank
        self.parallel_writers = parallel_writers
        self.workers = workers

    def run(self, data: Iterator[Item], rank: int = 0, world_size: int = 1) -> Iterator[Item]:
        with ExitStack() as stack:
            writer = self._writer(stack)
            try:
                for item, written in _paired(data, lambda item: item.function, writer.write_many):
                    for key, value in written.counters.items():
                        self.stat_update(key, value=value)
                    if not written.inputs:
                        self.stat_update(f"dropped/{written.dropped or 'no_inputs'}")
                        continue
                    item.inputs = written.inputs
                    item.input_writers = written.writers
                    self.stat_update("inputs", value=len(item.inputs))
                    yield item
            finally:
                for key, value in writer.counters().items():
                    self.stat_update(key, value=value)

    def _writer(self, stack: ExitStack) -> InputWriter:
        """The input writer this configuration asks for (an ``inputs.InputWriter``); the sandbox
        the search runs in is closed with ``stack``."""
        cfg = self.config
        if cfg.generator == "offline" and cfg.search == "none":
            from .inputs import OfflineInputWriter, OfflineWriterConfig

            return OfflineInputWriter(OfflineWriterConfig(n_candidates=cfg.n_candidates, seed=cfg.seed))
        llm = None
        if cfg.generator != "offline":
            from .inputs.llm import LLMInputWriter

            llm = LLMInputWriter(self._llm_config())
        if cfg.search == "none":  # a writer model alone: its inputs (and mutants of them), run once
            from .inputs.llm import LLMWithMutations

            return LLMWithMutations(llm, n_candidates=cfg.n_candidates, seed=cfg.seed) if cfg.mix_mutations else llm
        from .harvest.callsites import read_index
        from .inputs.search import SearchConfig, SearchingWriter
        from .sandbox import Sandbox, SandboxConfig

        search_config = SearchConfig(n_cases=cfg.n_cases, seed=cfg.seed, max_calls=cfg.search_calls)
        # One run per case while searching: ExecuteStep runs the chosen inputs again under every
        # hash seed, so the determinism check still applies to what is kept.
        sandbox_config = SandboxConfig(workers=self.workers, timeout=cfg.timeout, memory_mb=cfg.memory_mb, runs=1)
        call_sites = read_index(self.call_sites)
        sandbox = stack.enter_context(Sandbox(sandbox_config))
        if llm is None:
            return SearchingWriter(sandbox, search_config, call_sites=call_sites)
        from .inputs.llm import LLMSeededSearch

        return LLMSeededSearch(llm, sandbox, search_config, call_sites=call_sites)

    def _llm_config(self):
        from .inputs.llm import LLMWriterConfig

        cfg = self.config
        return LLMWriterConfig(
            generator=cfg.generator,
            endpoint=cfg.endpoint,
            model=cfg.model,
            n_inputs=cfg.llm_inputs,
            concurrency=cfg.concurrency,
            cache_dir=self.cache_dir,
            seed=cfg.seed,
            parallel_writers=self.parallel_writers,
        )


class ExecuteStep(PipelineStep):
    """Runs every function on its inputs in the sandbox; streams, keeping order."""

    name = "execute"
    type = "🏃 - SANDBOX"

    def __init__(self, config: GenerationConfig, workers: int | None = None):
        super().__init__()
        self.config = config
        self.workers = workers

    def run(self, data: Iterator[Item], rank: int = 0, world_size: int = 1) -> Iterator[Item]:
        from .sandbox import Sandbox, SandboxConfig

        def task_of(item: Item) -> ExecutionTask:
            fn = item.function
            return ExecutionTask(id=fn.id, code=fn.code, entry_point=fn.entry_point, inputs=item.inputs, coverage=True)

        from .utils.logging import progress

        sandbox_config = SandboxConfig(workers=self.workers, timeout=self.config.timeout, memory_mb=self.config.memory_mb)
        with Sandbox(sandbox_config) as sandbox, progress() as bar:
            task = bar.add_task(f"rank {rank}: executing functions", total=None)
            for item, result in _paired(data, task_of, sandbox.run):
                bar.advance(task)
                item.status = result.status
                item.cases = result.cases
                item.coverage = result.coverage
                for case, who in zip(item.cases, item.input_writers):
                    case.writer = who
                for case in result.cases:
                    self.stat_update(f"outcome/{case.outcome}")
                yield item


class SelectCasesStep(PipelineStep):
    """Keeps the returned (and a minority of raised) cases; drops functions left with too few."""

    name = "select cases"
    type = "🔻 - FILTER"

    def __init__(self, config: GenerationConfig):
        super().__init__()
        self.config = config

    def run(self, data: Iterator[Item], rank: int = 0, world_size: int = 1) -> Iterator[Item]:
        from .cases import drop_reason, select_cases
        from .quality import measure

        for item in data:
            if item.status != "ok":
                self.stat_update(f"dropped/{item.status or 'not_run'}")
                continue
            # A last guard of the contract: no memory address ever reaches the data.
            cases = [c for c in item.cases if not has_address(c.output)]
            selected = select_cases(cases, n=self.config.n_cases, max_raised_share=self.config.max_raised_share)
            reason = drop_reason(selected)
            if reason:
                self.stat_update(f"dropped/{reason}")
                continue
            coverage_of = {id(case): cov for case, cov in zip(item.cases, item.coverage or [])}
            coverages = [coverage_of.get(id(case)) for case in selected] if item.coverage is not None else None
            fn = item.function
            item.quality = measure(fn.code, fn.entry_point, selected, coverages).to_dict()
            item.cases = selected
            self.stat_update("kept")
            self.stat_update("cases", value=len(selected))
            for case in selected:  # what each writer contributed to the data
                self.stat_update(f"cases_by_writer/{case.writer or 'offline'}")
            yield item


class WriteShardStep(PipelineStep):
    """Writes this rank's functions with their cases to ``<shards_dir>/<rank>.jsonl``, atomically."""

    name = "shard writer"
    type = "💽 - WRITER"

    def __init__(self, shards_dir: str, generator: str = "offline"):  # generator: the dataset's ``generator`` field
        super().__init__()
        self.shards_dir = shards_dir
        self.generator = generator

    def run(self, data: Iterator[Item], rank: int = 0, world_size: int = 1) -> Iterator[Item]:
        from .utils.files import atomic_open

        path = Path(self.shards_dir) / f"{rank:05d}.jsonl"
        with atomic_open(path) as handle:
            for item in data:
                row = shard_row(item, generator=self.generator)
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        return
        yield  # a generator, like every step


def shard_row(item: Item, *, generator: str) -> dict[str, Any]:
    fn = item.function
    return {
        "id": fn.id,
        "entry_point": fn.entry_point,
        "code": fn.code,
        "fingerprint": fn.fingerprint,
        "source": fn.to_dict()["source"],
        "cases": [c.to_dict() for c in item.cases],
        "generator": generator,
        **({"quality": item.quality} if item.quality is not None else {}),
    }


def _answer_caches(shards_dir: str | Path) -> list[str]:
    """Where the writer model's answers are kept: the work dir (it resumes on its own) and the
    user's cache (a build without a work dir, or another work dir, asks nothing twice)."""
    from .utils.cache import cache_dir

    folders = [str(Path(shards_dir).parent / "llm-cache")]
    shared = cache_dir()
    if shared is not None:
        folders.append(str(shared / "llm-answers"))
    return folders


def generation_steps(
    config: GenerationConfig, *, shards_dir: str | Path, tasks: int, workers: int | None, parallel_writers: int = 1,
    call_sites: str | Path | None = None,
) -> list:
    """The per-rank pipeline, ready for any datatrove executor. ``parallel_writers``: ranks that
    share one LLM server at a time (its concurrency limit is divided among them); ``call_sites``:
    the corpus's call-site index (``harvest.callsites``), seeds for the input search."""
    return [
        HarvestStep(config, world_size=tasks),
        WriteInputsStep(config, cache_dir=_answer_caches(shards_dir), parallel_writers=parallel_writers,
                        workers=workers, call_sites=str(call_sites) if call_sites else None),
        ExecuteStep(config, workers=workers),
        SelectCasesStep(config),
        WriteShardStep(str(shards_dir), generator=config.generator),
    ]


def read_rank_stats(logging_dir: str | Path, tasks: int) -> Counter[str]:
    """Our counters from datatrove's per-rank stats files (present for ranks finished earlier too)."""
    totals: Counter[str] = Counter()
    for rank in range(tasks):
        totals.update(rank_counters(logging_dir, rank))
    return totals


def rank_counters(logging_dir: str | Path, rank: int) -> Counter[str]:
    """One rank's counters from its datatrove stats file (empty when the rank has not finished)."""
    counters: Counter[str] = Counter()
    path = Path(logging_dir) / "stats" / f"{rank:05d}.json"
    if not path.exists():
        return counters
    for step in json.loads(path.read_text()):
        for label, value in step.get("stats", {}).items():
            # datatrove stores a bare number for unit increments, a dict with "total" otherwise.
            if isinstance(value, dict):
                counters[label] += int(value.get("total", 0))
            elif isinstance(value, (int, float)):
                counters[label] += int(value)
    return counters
