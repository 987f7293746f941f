"""Input writers: candidate argument lists for harvested functions.

By role: :mod:`.reading` (what a function's source says about its parameters), :mod:`.offline`
(the one-shot offline writer) and :mod:`.values` (typical and edge values of a type, and their
mutation), :mod:`.search` (the coverage-guided search against the sandbox, the default) and
:mod:`.llm` (a writer model: requests, prompts, parsing and the answer cache).
"""

from .offline import OfflineInputWriter, OfflineWriterConfig

__all__ = ["OfflineInputWriter", "OfflineWriterConfig"]
