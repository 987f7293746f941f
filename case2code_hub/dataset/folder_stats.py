"""``case2code stats``: the input quality of a built dataset folder, read from its card (where the
build wrote it) or measured again by running every kept function's cases in the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..errors import DatasetError
from ..quality import FunctionQuality, measure, summarise
from ..schema import Case
from .card import is_case2code_folder, read_quality


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
    from ..sandbox import Sandbox, SandboxConfig
    from ..schema import ExecutionTask

    tasks = [ExecutionTask(id=fid, code=code, entry_point=entry, inputs=inputs, coverage=True)
             for fid, code, entry, inputs, _ in functions]
    out = []
    with Sandbox(SandboxConfig(workers=workers, timeout=timeout, runs=1)) as sandbox:
        for (_, code, entry, _, outcomes), result in zip(functions, sandbox.run(tasks)):
            # Outcomes as stored (what the data shows); coverage as measured now.
            cases = [Case(input=c.input, output=c.output, outcome=stored) for c, stored in zip(result.cases, outcomes)]
            out.append(measure(code, entry, cases, result.coverage))
    return out
