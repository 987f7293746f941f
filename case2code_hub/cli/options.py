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
# The input writer and its server, the same in `build` and `generate` (a cluster's ranks).
Generator = Annotated[str, typer.Option(help="Input writer: offline (no model), tgi, or openai.")]
Search = Annotated[str, typer.Option(help="Input search: coverage (guided by the sandbox, seeded by the model's inputs) or none (one shot).")]
Endpoint = Annotated[Optional[str], typer.Option(help="Writer server URL (TGI or OpenAI-style).")]
Model = Annotated[Optional[str], typer.Option(help="Model name for OpenAI-style servers.")]
Concurrency = Annotated[Optional[int], typer.Option(help="Requests in flight per rank (the server's limit is shared among ranks running at once).", min=1)]
