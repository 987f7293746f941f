"""The LLM input writer itself (:class:`LLMInputWriter`): streams functions through a
:class:`~.session._WriterSession` running on an event loop thread of its own, and sums up a run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections import Counter, deque
from dataclasses import replace
from typing import Any, Awaitable, Iterable, Iterator

from ...errors import ConfigError
from ...inference import EndpointInfo
from ...schema import Function
from ...utils.logging import get_logger
from ..base import WrittenInputs
from .writer_config import LLMWriterConfig
from .session import _WriterSession, writer_label

logger = get_logger(__name__)


class _LoopThread:
    """An asyncio loop of our own in a daemon thread, so requests progress while the caller works."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="case2code-llm-writer", daemon=True)
        self.thread.start()

    def submit(self, coro: Awaitable[Any]) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def call(self, coro: Awaitable[Any]) -> Any:
        return self.submit(coro).result()

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.call(cancel_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()


class LLMInputWriter:
    """Asks a writer model for inputs; ``LLMInputWriter(config)`` or ``LLMInputWriter(endpoint=...)``.

    ``stats`` counts, over the writer's life: ``requests`` sent, ``answered``, ``cached`` (answers
    read from disk), ``retries``, ``http_429``, ``http_503``, ``http_5xx``, ``timeouts``,
    ``connection_errors``, ``malformed_responses``, ``rejected`` (4xx, not retried),
    ``unanswered`` (requests given up after every retry: worth asking again later),
    ``failed_functions`` (no answer: rejected or unanswered), ``truncated`` answers, ``tokens_in``, ``tokens_out``, ``inputs`` kept and
    ``dropped/<reason>`` (see :mod:`.parse`).
    """

    name = "llm"

    def __init__(self, config: LLMWriterConfig | None = None, /, **options: Any) -> None:
        try:
            self.config = replace(config or LLMWriterConfig(), **options)
        except TypeError as exc:
            raise ConfigError(f"unknown LLM writer option: {exc}", field=next(iter(options), None)) from None
        self.stats: Counter[str] = Counter()
        self.info: EndpointInfo | None = None
        self.concurrency: int | None = None

    @property
    def writer(self) -> str:
        """What to record as each case's writer: ``llm:<model id>`` once the server is known."""
        return writer_label(self.info)

    def write(self, function: Function) -> list[str]:
        """Inputs for one function (a convenience over ``write_many``)."""
        for written in self.write_many([function]):
            return written.inputs
        return []

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        """Inputs for each function, streamed in input order with bounded requests in flight
        (the :class:`~..base.InputWriter` interface).

        Args:
            functions: the functions; read lazily, a window of them ahead of what was yielded.

        Yields:
            :class:`~..base.WrittenInputs`: ``inputs`` are argument-list sources that round-trip
            through ``literals.parse_arguments`` (empty when the model gave nothing usable or the
            request failed), each labelled with the model (``writers``: ``llm:<model id>``);
            ``info`` has ``writer``, ``model``, ``cached``, ``finish_reason``, ``attempts``,
            ``tokens_in``, ``tokens_out``, ``dropped`` (by reason) and ``error``.

        Raises:
            InferenceServerError: the server is unreachable, refuses the token, or lacks the route.
        """
        runner = _LoopThread()
        session = _WriterSession(self.config, self.stats)
        window: deque[tuple[Function, concurrent.futures.Future]] = deque()
        try:
            runner.call(session.open())
            self.info, self.concurrency = session.info, session.concurrency
            limit = max(64, 4 * (self.concurrency or 1))
            source = iter(functions)
            exhausted = False
            order = 0
            while True:
                while not exhausted and len(window) < limit:
                    try:
                        function = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    window.append((function, runner.submit(session.write(function, order))))
                    order += 1
                if not window:
                    break
                function, future = window.popleft()
                inputs, info = future.result()
                label = info.get("writer") or self.writer
                yield WrittenInputs(function, inputs, [label] * len(inputs), info=info)
        finally:
            for _, future in window:
                future.cancel()
            try:
                runner.call(session.close())
            finally:
                runner.stop()
            logger.info("llm writer: %s", _summary_line(self.stats))

    def summary(self) -> dict[str, int]:
        """``stats`` as a plain dict with sorted keys, for a run summary."""
        return {k: int(v) for k, v in sorted(self.stats.items())}

    def counters(self) -> dict[str, int]:
        """``stats`` as the run's ``llm/<key>`` counters."""
        return {f"llm/{key}": int(value) for key, value in self.stats.items()}


def _summary_line(stats: Counter) -> str:
    keys = ("requests", "answered", "cached", "retries", "http_429", "http_503", "unanswered", "failed_functions", "tokens_in", "tokens_out")
    return ", ".join(f"{k}={stats.get(k, 0)}" for k in keys)


def llm_writer_summary(writer: LLMInputWriter) -> str:
    """One line for a run summary: requests, cache hits, retries, 429s, tokens, dropped inputs."""
    stats = writer.stats
    dropped = {k.split("/", 1)[1]: v for k, v in sorted(stats.items()) if k.startswith("dropped/")}
    return _summary_line(stats) + (f", dropped={json.dumps(dropped, sort_keys=True)}" if dropped else "")
