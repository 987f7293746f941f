"""The coverage-guided input search against the sandbox, without any model (the default writer).

Per function: the offline writer's seeds (doctests, defaults, annotated / usage-inferred types,
body literals; the corpus's own calls of the function and a writer model's inputs when there are
some) are executed with coverage on; candidates that reach new lines or branch outcomes,
or give a new output (errors count by their shape), join the parent pool. The next round's
candidates are made from the pool: a parent that raised is mostly repaired as its error says
(``repair``: a missing key added, a wrong type switched, a container resized, a value that lacks
an attribute made an object that has it, changing first the arguments the raising line names);
otherwise a child may be aimed at one open test (``target``: a parent that reached a test seen to
go one way only, the argument the test reads (two of them now and then), a value made for it: its
folded constants, ``None``, a prefix and suffix, a type, a class or named object it compares with,
a string its regex matches, a constant at the index it reads), or a body constant is spliced in
(half the time one of the frontier's, the tests reached but not yet seen go both ways: their
constants, and the scalars the sandbox saw them compare, ``sandbox.operands``), a string is
edited several times over with the body's short literals (``havoc``), a value is copied between
arguments, a value's type is switched (``splice``), or a type-aware mutation is made.
Values are plain data, or the grammar's objects where the body asks for them (``values``: a key
function such as ``abs`` for a parameter it calls, a class such as ``int`` for one it treats as a
class, a ``types.SimpleNamespace`` with the attributes it reads).
The search stops at a budget of calls, when every line and branch outcome is covered and there
are enough distinct outputs, or after ``patience`` rounds without progress (new coverage, a new
returned output, or one of the first few distinct errors; eight times that while a line is
unreached).
Then the final ``n_cases`` inputs are chosen greedily (``choice``): most new lines first, then new
outputs, with at most ``max_raised_share`` raised calls (up to half the cases when each extra
raised call alone reaches some lines).

Modules: :mod:`.searcher` (:class:`SearchingWriter`, the loop), :mod:`.repair` (error-guided
repair), :mod:`.target` (children aimed at one open test), :mod:`.splice` (known values spliced
in, havoc edits, type switches), :mod:`.trees` (paths into argument values) and :mod:`.choice`
(the final choice of cases by coverage). The seeds and type-aware mutations are the one-shot
writer's (:mod:`..offline`, :mod:`..values`); what a function's source says comes from
:mod:`..reading`.
"""

from .searcher import SearchConfig, SearchingWriter, SearchResult

__all__ = ["SearchConfig", "SearchResult", "SearchingWriter"]
