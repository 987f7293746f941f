"""The coverage-guided input search against the sandbox (the default input writer).

:mod:`.writer` runs the search (:class:`SearchingWriter`); its parts make the children of each
round and choose the cases at the end: :mod:`.repair` (error-guided repair), :mod:`.target`
(children aimed at one open test), :mod:`.splice` (known values spliced in, havoc edits, type
switches), :mod:`.trees` (paths into argument values) and :mod:`.choice` (the final choice of
cases by coverage).
"""

from .writer import SearchConfig, SearchingWriter, SearchResult

__all__ = ["SearchConfig", "SearchResult", "SearchingWriter"]
