"""``Annotated`` option aliases shared by several commands, defined once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

Seed = Annotated[int, typer.Option(help="Seed: the same inputs and seed give identical output.")]
Workers = Annotated[Optional[int], typer.Option(help="Sandbox worker processes (default: one per core).", min=1)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]
Timeout = Annotated[float, typer.Option(help="Seconds allowed per call.", min=0.01)]
MemoryMB = Annotated[int, typer.Option("--memory-mb", help="Address-space limit of a sandboxed function, MiB.", min=64)]
Token = Annotated[
    Optional[str],
    typer.Option(help="Hub token (default: HF_TOKEN or the token saved by `hf auth login`).", show_default=False),
]
Strict = Annotated[
    bool,
    typer.Option("--strict", help="Stop at the first corpus row that is not JSON or has no 'content' (default: skip and count it)."),
]
Decontaminate = Annotated[
    str,
    typer.Option(help="Benchmarks whose overlapping functions are dropped: humaneval, humaneval,mbpp:FILE.jsonl, or none."),
]
