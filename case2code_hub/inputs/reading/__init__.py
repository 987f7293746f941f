"""What a function's source says about its parameters, read with ``ast`` only (never imported or run).

:mod:`.analysis` assembles the per-function :class:`~.analysis.FunctionAnalysis` from the parts:
:mod:`.annotations` (``TypeSpec``, annotation parsing), :mod:`.usage` (how the body uses each
name), :mod:`.doctests` (``>>>`` calls in the docstring), :mod:`.names` (what a parameter's name
suggests) and :mod:`.regexgen` (strings the function's regular expressions accept).
Every input writer reads a function through these.
"""

from .analysis import FunctionAnalysis, ParamInfo, TypeSpec, analyse, ranked_types

__all__ = ["FunctionAnalysis", "ParamInfo", "TypeSpec", "analyse", "ranked_types"]
