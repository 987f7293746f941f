"""``case2code execute``: run functions on their inputs in the sandbox, one JSON line per function."""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Annotated, Iterator

import typer
from rich.table import Table

from ..errors import InputFileError
from ..schema import OUTCOMES, ExecutionTask
from ..utils.files import iter_jsonl
from ._common import err_console, setup_logging, user_errors
from .options import MemoryMB, Verbose, Workers

_FIELDS = {"id": str, "code": str, "entry_point": str, "inputs": list}


def read_tasks(path: Path) -> Iterator[ExecutionTask]:
    """Tasks from a FUNCTIONS.jsonl file, read lazily.

    Raises:
        InputFileError: a line that is not JSON or lacks a field; the message names file and line.
    """
    for number, row in iter_jsonl(path):
        for name, kind in _FIELDS.items():
            if not isinstance(row.get(name), kind):
                raise InputFileError(f"{path}:{number}: field {name!r} is missing or not a {kind.__name__}",
                                     path=str(path), line=number)
        if not all(isinstance(item, str) for item in row["inputs"]):
            raise InputFileError(f"{path}:{number}: 'inputs' must be a list of argument-list strings",
                                 path=str(path), line=number)
        yield ExecutionTask(id=row["id"], code=row["code"], entry_point=row["entry_point"], inputs=row["inputs"])


def execute(
    functions: Annotated[Path, typer.Argument(help="JSONL: one {id, code, entry_point, inputs} per line.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL to write: one {id, status, cases} per line.")],
    timeout: Annotated[float, typer.Option(help="Seconds allowed per call.", min=0.01)] = 1.0,
    memory_mb: MemoryMB = 512,
    workers: Workers = None,
    verbose: Verbose = False,
) -> None:
    """Run each function on its inputs in the sandbox and write the cases."""
    from ..sandbox import Sandbox, SandboxConfig
    from ..utils.files import write_jsonl

    setup_logging(verbose)
    counts: collections.Counter[str] = collections.Counter()
    began = time.monotonic()
    with user_errors():
        if not functions.is_file():
            raise InputFileError(f"{functions}: not found", path=str(functions))
        config = SandboxConfig(workers=workers, timeout=timeout, memory_mb=memory_mb)
        # A quick first pass: a bad line is reported before any sandbox starts or output is written.
        for _ in read_tasks(functions):
            pass

        def rows():
            with Sandbox(config) as sandbox:
                for result in sandbox.run(read_tasks(functions)):
                    counts["functions"] += 1
                    counts[f"status {result.status}"] += 1
                    counts.update(case.outcome for case in result.cases)
                    yield {"id": result.id, "status": result.status, "detail": result.detail,
                           "cases": [{"input": c.input, "output": c.output, "outcome": c.outcome} for c in result.cases]}

        write_jsonl(out, rows())
    table = Table(title=f"case2code execute → {out}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("functions", str(counts["functions"]))
    for key in sorted(k for k in counts if k.startswith("status ")):
        table.add_row(f"  {key}", str(counts[key]))
    table.add_row("cases", str(sum(counts[o] for o in OUTCOMES)))
    for outcome in OUTCOMES:
        if counts[outcome]:
            table.add_row(f"  {outcome}", str(counts[outcome]))
    table.add_row("time", f"{time.monotonic() - began:.1f} s")
    err_console.print(table)
