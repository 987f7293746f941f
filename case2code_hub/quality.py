"""Quality of a function's cases, per function and over a build: line and branch coverage (from the
sandbox's own measurement), share of returning calls, distinct outputs, exception share, and the
yield from harvested to kept functions with the reasons for every drop.

Per-function numbers are computed once, where the cases are chosen, and travel with the function
(shard rows, the raw config's ``stats``); :func:`summarise` folds them into the build's report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .errors import DatasetError
from .schema import Case, CaseCoverage
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
    distinct = len({case.output for case in cases if case.outcome in ("returned", "raised")})
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
    rows = [q.to_dict() if isinstance(q, FunctionQuality) else dict(q) for q in qualities]
    measured = [row for row in rows if row.get("measured", True)]
    n_cases = sum(int(row["n_cases"]) for row in rows)

    def mean(key: str, items: list[dict[str, Any]]) -> float:
        return round(sum(float(row[key]) for row in items) / len(items), 4) if items else 0.0

    out: dict[str, Any] = {"functions": len(rows)}
    if measured:
        out["mean line coverage"] = mean("line_coverage", measured)
        out["full line coverage share"] = round(sum(1 for r in measured if r["line_coverage"] >= 1.0) / len(measured), 4)
        out["mean branch coverage"] = mean("branch_coverage", measured)
        out["full branch coverage share"] = round(sum(1 for r in measured if r["branch_coverage"] >= 1.0) / len(measured), 4)
    if rows:
        # Shares of calls over all cases, so a function with more cases weighs more, as in the paper.
        out["returning calls share"] = round(sum(r["returned_share"] * r["n_cases"] for r in rows) / max(n_cases, 1), 4)
        out["raised calls share"] = round(sum(r["raised_share"] * r["n_cases"] for r in rows) / max(n_cases, 1), 4)
        out["mean distinct outputs"] = mean("distinct_outputs", rows)
        out["mean cases"] = round(n_cases / len(rows), 2)
    if harvested is not None:
        out["harvested"] = harvested
        out["yield (kept / harvested)"] = round(len(rows) / harvested, 4) if harvested else 0.0
    if dropped:
        out["dropped"] = {reason: int(count) for reason, count in sorted(dropped.items())}
    return out


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


def folder_quality(folder: str | Path, *, measure_again: bool = False, workers: int | None = None,
                   timeout: float = 1.0) -> dict[str, Any]:
    """The quality summary of a built dataset folder.

    Args:
        folder: a folder written by ``case2code build``.
        measure_again: run every kept function's cases in the sandbox with coverage on, instead of
            reading the summary the build wrote into the card (older builds have none: then the
            cases are always measured). Yield and drop reasons come from the card only.
        workers: sandbox workers when measuring.
        timeout: seconds per call when measuring.

    Returns:
        The summary (see :func:`summarise`), with ``source``: ``card`` or ``measured``.

    Raises:
        DatasetError: not a case2code dataset folder.
    """
    from .dataset.card import is_case2code_folder, read_quality

    path = Path(folder)
    if not is_case2code_folder(path):
        raise DatasetError(f"{path} is not a case2code dataset folder (no card with our marker)", path=str(path))
    stored = read_quality((path / "README.md").read_text(encoding="utf-8")) or {}
    if stored and not measure_again:
        return {**stored, "source": "card"}
    functions = list(_folder_functions(path))
    measured = _measure_functions(functions, workers=workers, timeout=timeout)
    summary = summarise(measured, harvested=stored.get("harvested"), dropped=stored.get("dropped"))
    return {**summary, "source": "measured"}


def _folder_functions(path: Path) -> Iterator[tuple[str, str, str, list[str], list[str]]]:
    """``(id, code, entry point, inputs, outcomes)`` of every raw and eval row of a folder."""
    import pyarrow.parquet as pq

    for parquet in sorted((path / "raw").glob("*.parquet")):
        for row in pq.read_table(parquet, columns=["id", "code", "entry_point", "cases"]).to_pylist():
            yield row["id"], row["code"], row["entry_point"], [c["input"] for c in row["cases"]], [c["outcome"] for c in row["cases"]]
    for parquet in sorted((path / "eval").glob("*.parquet")):
        table = pq.read_table(parquet, columns=["id", "reference_code", "entry_point", "observed_cases", "hidden_cases"])
        for row in table.to_pylist():
            cases = row["observed_cases"] + row["hidden_cases"]
            yield row["id"], row["reference_code"], row["entry_point"], [c["input"] for c in cases], [c["outcome"] for c in cases]


def _measure_functions(functions: list[tuple[str, str, str, list[str], list[str]]], *, workers: int | None,
                       timeout: float) -> list[FunctionQuality]:
    from .sandbox import Sandbox, SandboxConfig
    from .schema import ExecutionTask

    tasks = [ExecutionTask(id=fid, code=code, entry_point=entry, inputs=inputs, coverage=True)
             for fid, code, entry, inputs, _ in functions]
    out = []
    with Sandbox(SandboxConfig(workers=workers, timeout=timeout, runs=1)) as sandbox:
        for (_, code, entry, _, outcomes), result in zip(functions, sandbox.run(tasks)):
            # Outcomes as stored (what the data shows); coverage as measured now.
            cases = [Case(input=c.input, output=c.output, outcome=stored) for c, stored in zip(result.cases, outcomes)]
            out.append(measure(code, entry, cases, result.coverage))
    return out
