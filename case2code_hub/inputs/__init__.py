"""Input writers: candidate argument lists for harvested functions.

Every writer is an :class:`InputWriter`: ``write_many(functions)`` yields one
:class:`WrittenInputs` per function, in order. The ones a build can run:

- :class:`SearchingWriter` (:mod:`.search`), the default (``--search coverage``): a
  coverage-guided search against the sandbox, without any model; its inputs are labelled
  ``offline`` in the data, like the one-shot writer's;
- :class:`OfflineInputWriter` (:mod:`.offline`, ``--search none``): one shot from the source
  alone, nothing run;
- with a writer model (:mod:`.llm`): ``LLMSeededSearch`` (its inputs seed the search),
  ``LLMWithMutations`` (its inputs and type-aware mutants of them, ``--search none``).

The modules by role: :mod:`.reading` (what a function's source says about its parameters),
:mod:`.values` (typical and edge values of a type, and their mutation), :mod:`.offline`,
:mod:`.search` and its parts, :mod:`.llm` with its prompts, parsing and answer cache. The
writers are imported when first asked for, so ``import case2code_hub.inputs.llm`` (``case2code
eval``) does not load the search.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import OFFLINE, InputWriter, WrittenInputs

if TYPE_CHECKING:
    from .offline import OfflineInputWriter, OfflineWriterConfig
    from .search import SearchConfig, SearchingWriter, SearchResult

_LAZY = {
    "OfflineInputWriter": ".offline",
    "OfflineWriterConfig": ".offline",
    "SearchConfig": ".search",
    "SearchResult": ".search",
    "SearchingWriter": ".search",
}

__all__ = ["OFFLINE", "InputWriter", "OfflineInputWriter", "OfflineWriterConfig", "SearchConfig", "SearchResult",
           "SearchingWriter", "WrittenInputs"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
