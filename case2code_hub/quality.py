"""Quality of a function's cases, per function and over a build: line and branch coverage (from the
sandbox's own measurement), share of returning calls, distinct outputs, exception share, and the
yield from harvested to kept functions with the reasons for every drop.

Per-function numbers are computed once, where the cases are chosen, and travel with the function
(shard rows, the raw config's ``stats``); :class:`QualityTally` folds them into the build's report
(:func:`summarise` for a list). The quality of a built folder is
:func:`case2code_hub.dataset.folder_stats.folder_quality`.
"""

from __future__ import annotations

from array import array
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

from .schema import KEPT_OUTCOMES, Case, CaseCoverage
from .sandbox.coverage import CoverageMap, coverage_map

@dataclass
class FunctionQuality:
    """Quality of one function's cases.

    Attributes:
        line_coverage: share of the coverable lines (entry point and reached helpers) the cases ran.
        branch_coverage: share of branch outcomes they took (1.0 when there is no branch).
        returned_share: share of cases that returned normally.
        raised_share: share of cases that raised.
        distinct_outputs: distinct outputs among the cases.
        n_cases: cases measured.
        measured: whether coverage was measured at all (False: the coverage numbers are 0).
    """

    line_coverage: float
    branch_coverage: float
    returned_share: float
    raised_share: float
    distinct_outputs: int
    n_cases: int
    measured: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    code: str,
    entry_point: str,
    cases: Sequence[Case],
    coverages: Sequence[CaseCoverage | None] | None,
    *,
    cmap: CoverageMap | None = None,
) -> FunctionQuality:
    """Quality of ``cases`` of one function.

    Args:
        code: the function's self-contained source (read statically).
        entry_point: its name.
        cases: the executed cases.
        coverages: the sandbox's coverage of each case, parallel to ``cases``; None when not measured.
        cmap: the function's coverage map, if already computed.

    Returns:
        A :class:`FunctionQuality`.
    """
    n = len(cases)
    returned = sum(1 for case in cases if case.outcome == "returned")
    raised = sum(1 for case in cases if case.outcome == "raised")
    distinct = len({case.output for case in cases if case.outcome in KEPT_OUTCOMES})
    if coverages is None:
        return FunctionQuality(0.0, 0.0, returned / n if n else 0.0, raised / n if n else 0.0, distinct, n, measured=False)
    cmap = cmap or coverage_map(code, entry_point)
    return FunctionQuality(
        line_coverage=cmap.line_coverage(coverages),
        branch_coverage=cmap.branch_coverage(coverages),
        returned_share=returned / n if n else 0.0,
        raised_share=raised / n if n else 0.0,
        distinct_outputs=distinct,
        n_cases=n,
    )


def summarise(
    qualities: Iterable[FunctionQuality | Mapping[str, Any]],
    *,
    harvested: int | None = None,
    dropped: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Build-wide quality: means over functions, full-coverage shares, and the yield.

    Args:
        qualities: one per kept function (dataclasses or their dicts).
        harvested: functions that entered input writing (for the yield); None leaves it out.
        dropped: functions dropped after harvest, by reason.

    Returns:
        A flat, JSON-ready mapping with rounded numbers (``functions``, ``mean line coverage``, ...).
    """
    tally = QualityTally()
    for quality in qualities:
        tally.add(quality)
    return tally.summary(harvested=harvested, dropped=dropped)


def format_lines(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` rows of a summary, for a table (drop reasons indented)."""
    rows: list[tuple[str, str]] = []
    for key, value in summary.items():
        if isinstance(value, Mapping):
            for reason, count in value.items():
                rows.append((f"  {key}: {reason}", str(count)))
        elif isinstance(value, float):
            rows.append((key, f"{value:.3f}"))
        else:
            rows.append((key, str(value)))
    return rows


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
    """The build's quality summary folded one function at a time, in a few bytes per function
    (the streaming dataset builder adds each kept function's quality in the build's id order).

    Each mean is ``sum(...)`` over the values in arrival order, kept as compact columns of doubles,
    so the numbers do not depend on how the functions were fed."""

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
        """A flat, JSON-ready mapping with rounded numbers (see :func:`summarise`)."""

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
            # Shares of calls over all cases, so a function with more cases weighs more, as in the paper.
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
