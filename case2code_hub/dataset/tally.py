"""The build's quality summary folded one function at a time, in a few bytes per function.

:func:`case2code_hub.quality.summarise` wants every kept function's quality dict at once; the
streaming builder feeds :class:`QualityTally` instead and gets the very same mapping, number for
number: each mean is still ``sum(...)`` over the same values in the same order (kept as compact
columns of doubles), so even a ``sum`` that rounds differently in another Python version agrees.
"""

from __future__ import annotations

from array import array
from typing import Any, Mapping

from ..quality import FunctionQuality


class _Column:
    """Values in arrival order: packed doubles while every value is a float, else plain objects."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: array | list = array("d")

    def append(self, value: Any) -> None:
        if type(value) is float and type(self.values) is array:
            self.values.append(value)
            return
        if type(self.values) is array:  # an int (or another number): keep its exact type from now on
            self.values = list(self.values)
        self.values.append(value)

    def __len__(self) -> int:
        return len(self.values)


class QualityTally:
    """Add each kept function's quality (in the build's id order); :meth:`summary` is what
    ``quality.summarise`` returns for the same functions."""

    def __init__(self) -> None:
        self.functions = 0
        self.n_cases = 0
        self.full_line = 0
        self.full_branch = 0
        self.line = _Column()
        self.branch = _Column()
        self.returned = _Column()
        self.raised = _Column()
        self.distinct = _Column()

    def add(self, quality: FunctionQuality | Mapping[str, Any]) -> None:
        row = quality.to_dict() if isinstance(quality, FunctionQuality) else quality
        self.functions += 1
        self.n_cases += int(row["n_cases"])
        if row.get("measured", True):
            self.line.append(float(row["line_coverage"]))
            self.full_line += 1 if row["line_coverage"] >= 1.0 else 0
            self.branch.append(float(row["branch_coverage"]))
            self.full_branch += 1 if row["branch_coverage"] >= 1.0 else 0
        self.returned.append(row["returned_share"] * row["n_cases"])
        self.raised.append(row["raised_share"] * row["n_cases"])
        self.distinct.append(float(row["distinct_outputs"]))

    def summary(self, *, harvested: int | None = None, dropped: Mapping[str, int] | None = None) -> dict[str, Any]:
        """The mapping of :func:`case2code_hub.quality.summarise` (same keys, order and numbers)."""

        def mean(column: _Column) -> float:
            return round(sum(column.values) / len(column), 4) if len(column) else 0.0

        out: dict[str, Any] = {"functions": self.functions}
        measured = len(self.line)
        if measured:
            out["mean line coverage"] = mean(self.line)
            out["full line coverage share"] = round(self.full_line / measured, 4)
            out["mean branch coverage"] = mean(self.branch)
            out["full branch coverage share"] = round(self.full_branch / measured, 4)
        if self.functions:
            out["returning calls share"] = round(sum(self.returned.values) / max(self.n_cases, 1), 4)
            out["raised calls share"] = round(sum(self.raised.values) / max(self.n_cases, 1), 4)
            out["mean distinct outputs"] = mean(self.distinct)
            out["mean cases"] = round(self.n_cases / self.functions, 2)
        if harvested is not None:
            out["harvested"] = harvested
            out["yield (kept / harvested)"] = round(self.functions / harvested, 4) if harvested else 0.0
        if dropped:
            out["dropped"] = {reason: int(count) for reason, count in sorted(dropped.items())}
        return out
