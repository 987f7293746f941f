"""``case2code build``: corpus to dataset folder, on embedded defaults (the standard library)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._common import err_console, setup_logging, user_errors
from .options import Concurrency, Decontaminate, Endpoint, Generator, Model, Search, Seed, Strict, Token, Verbose, Workers


def build(
    corpus: Annotated[str, typer.Option(help="'stdlib', a folder of .py files, or JSONL/Parquet with a 'content' column.")] = "stdlib",
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to write.")] = Path("case2code"),
    seed: Seed = 0,
    max_functions: Annotated[Optional[int], typer.Option(help="Harvest at most this many functions.", min=1)] = None,
    workers: Workers = None,
    tasks: Annotated[int, typer.Option(help="Shards (datatrove ranks) the corpus is split into.", min=1)] = 1,
    task_workers: Annotated[int, typer.Option(help="Ranks run at the same time (each with --workers sandbox processes).", min=1)] = 1,
    work_dir: Annotated[Optional[Path], typer.Option(help="Keep shards here and resume from them.")] = None,
    eval_share: Annotated[float, typer.Option(help="Share of functions held out for the eval config.")] = 0.05,
    timeout: Annotated[float, typer.Option(help="Seconds per call in the sandbox.")] = 1.0,
    generator: Generator = "offline",
    search: Search = "coverage",
    endpoint: Endpoint = None,
    model: Model = None,
    concurrency: Concurrency = None,
    token: Token = None,
    strict: Strict = False,
    decontaminate: Decontaminate = "humaneval",
    verbose: Verbose = False,
) -> None:
    """Harvest functions, write inputs, run them in the sandbox, and write a dataset folder."""
    from ..builder import build as run_build

    setup_logging(verbose)
    with user_errors():
        summary = run_build(
            corpus,
            out,
            seed=seed,
            max_functions=max_functions,
            workers=workers,
            tasks=tasks,
            task_workers=task_workers,
            work_dir=work_dir,
            eval_share=eval_share,
            timeout=timeout,
            generator=generator,
            search=search,
            endpoint=endpoint,
            model=model,
            concurrency=concurrency,
            token=token,
            strict=strict,
            decontaminate=decontaminate,
        )
    table = Table(title=f"case2code build → {summary.out_dir}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    c = summary.counters
    table.add_row("files read", str(c.get("harvest/files_read", 0)))
    table.add_row("functions harvested", str(c.get("harvest/kept", 0)))
    table.add_row("dropped functions, skipped files (stage: reason)", "")
    for reason, count in summary.dropped().items():
        table.add_row(f"  {reason}", str(count))
    table.add_row("functions kept (raw + eval)", str(summary.functions + summary.eval_items))
    table.add_row("raw rows (train)", str(summary.functions))
    table.add_row("prompted rows", str(summary.prompted_rows))
    table.add_row("eval items", str(summary.eval_items))
    table.add_row("cases", str(summary.cases))
    if c.get("llm/requests") is not None or c.get("llm/cached"):
        table.add_row("writer requests (cached)", f"{c.get('llm/requests', 0)} ({c.get('llm/cached', 0)})")
        table.add_row("writer tokens in / out", f"{c.get('llm/tokens_in', 0)} / {c.get('llm/tokens_out', 0)}")
        table.add_row("writer retries, 429s, 503s", f"{c.get('llm/retries', 0)}, {c.get('llm/http_429', 0)}, {c.get('llm/http_503', 0)}")
        if c.get("llm/unanswered"):
            table.add_row("  requests unanswered after every retry (a rerun asks them again)", str(c["llm/unanswered"]))
        for key, value in sorted(c.items()):
            if key.startswith("llm/dropped/"):
                table.add_row(f"  model inputs dropped, {key.rpartition('/')[2]}", str(value))
            elif key.startswith("llm/rejected/"):
                table.add_row(f"  requests the server refused, {key.rpartition('/')[2]}", str(value))
        table.add_row("model answers: functions with usable inputs / without / cut at the token limit",
                      f"{c.get('llm/functions_with_inputs', 0)} / {c.get('llm/functions_without_inputs', 0)} / {c.get('llm/truncated', 0)}")
        for writer, count in summary.cases_by_writer().items():
            table.add_row(f"  kept cases written by {writer}", str(count))
    for level, count in summary.by_difficulty.items():
        table.add_row(f"  {level}", str(count))
    if summary.quality:
        from ..quality import format_lines

        table.add_section()
        for label, value in format_lines({k: v for k, v in summary.quality.items() if k != "dropped"}):
            table.add_row(f"quality: {label}", value)
        table.add_section()
    table.add_row("time", f"{summary.seconds:.1f} s")
    err_console.print(table)
    typer.echo(str(summary.out_dir))
