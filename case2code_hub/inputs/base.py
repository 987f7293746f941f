"""The one interface of the input writers: functions in, each function's inputs out, in order.

Every writer the pipeline can run implements :class:`InputWriter`: the one-shot offline writer
(``inputs.offline``), the coverage-guided search (``inputs.search``, given a started sandbox), a
writer model alone (``inputs.llm.LLMInputWriter``), its inputs widened with type-aware mutants
(``inputs.llm.LLMWithMutations``) and its inputs as the search's seeds
(``inputs.llm.LLMSeededSearch``). ``WriteInputsStep`` builds one and reads its ``write_many``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Protocol, runtime_checkable

from ..schema import Function

# The label of an input no model wrote (``schema.Case.writer``'s default).
OFFLINE = "offline"


@dataclass
class WrittenInputs:
    """What a writer wrote for one function.

    Attributes:
        function: the function.
        inputs: argument-list sources (``3, b='x'``), each read back by ``literals.parse_arguments``;
            empty when the writer has none for it.
        writers: who wrote each input, parallel to ``inputs``: ``offline``, ``llm:<model id>``,
            ``llm:<model id>+mutation``.
        counters: this function's counters for the run's statistics (``search/calls``,
            ``search/stop/<why>``).
        dropped: why ``inputs`` is empty when the writer knows better than ``no_inputs``
            (``writer_error``: it failed on this function).
        info: what else the writer tells about this function (the writer model's answer: ``model``,
            ``cached``, ``finish_reason``, ``error``...).
    """

    function: Function
    inputs: list[str]
    writers: list[str]
    counters: dict[str, int] = field(default_factory=dict)
    dropped: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class InputWriter(Protocol):
    """Writes candidate inputs for a stream of functions."""

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        """One :class:`WrittenInputs` per function, in the order the functions came.

        ``functions`` is read lazily, possibly a window ahead of what was yielded (a search
        works on many functions at once, a writer model's requests are in flight together).
        A writer that fails on one function yields it with no inputs; it raises only for what
        stops the run (the sandbox failed, the server refuses the token).
        """
        ...

    def counters(self) -> dict[str, int]:
        """Counters over the writer's life so far, for the run's statistics (a writer model's
        ``llm/requests``, ``llm/retries``...); read once ``write_many`` ends, however it ends."""
        ...
