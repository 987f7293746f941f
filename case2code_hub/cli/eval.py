"""``case2code eval``: score a model's completions on the eval config, pass@k by difficulty."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Mapping, Optional

import typer
from rich.table import Table

from ..errors import ConfigError
from ._common import err_console, setup_logging, user_errors
from .options import MemoryMB, Verbose, Workers


def summary_table(summary: Mapping[str, Any], title: str) -> Table:
    """A rich table of pass@k (tolerant, and exact in brackets) overall and per difficulty."""
    ks = list(summary["pass@k"])
    table = Table(title=title)
    table.add_column("split")
    table.add_column("items", justify="right")
    for k in ks:
        table.add_column(f"pass@{k} (exact)", justify="right")

    def cells(block: Mapping[str, Any]) -> list[str]:
        out = []
        for k in ks:
            value, exact = block["pass@k"].get(k), block["pass@k_exact"].get(k)
            out.append("n/a" if value is None else f"{value:.3f} ({exact:.3f})")
        return out

    for level, block in summary["by_difficulty"].items():
        table.add_row(level, str(block["items"]), *cells(block))
    table.add_row("all", str(summary["items"]), *cells(summary), style="bold")
    return table


def eval_command(
    dataset: Annotated[str, typer.Option(help="Dataset folder or Hub repo id with an 'eval' config.")],
    predictions: Annotated[Optional[Path], typer.Option(help="JSONL: {id, completions: [...]} per line.")] = None,
    endpoint: Annotated[Optional[str], typer.Option(help="Generate completions from this TGI / OpenAI-style server.")] = None,
    protocol: Annotated[str, typer.Option(help="The server's protocol: tgi or openai.")] = "tgi",
    # The old name of --protocol; in `build`, --generator is the input writer, so here it is hidden.
    generator: Annotated[Optional[str], typer.Option(hidden=True)] = None,
    model: Annotated[Optional[str], typer.Option(help="Model name (OpenAI-style servers).")] = None,
    n: Annotated[int, typer.Option("--n", help="Completions per item when generating.", min=1)] = 1,
    temperature: Annotated[float, typer.Option(help="Sampling temperature when generating (0: greedy).", min=0.0)] = 0.0,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per completion when generating.", min=1)] = 1024,
    concurrency: Annotated[Optional[int], typer.Option(help="Most requests in flight (default: the server's limit).", min=1)] = None,
    save_predictions: Annotated[Optional[Path], typer.Option(help="Keep generated completions here (JSONL), written as they arrive; a rerun asks only for the missing (default: a file in the user cache).")] = None,
    revision: Annotated[Optional[str], typer.Option(help="Hub revision (tag such as v1.0.0, branch, commit).")] = None,
    split: Annotated[str, typer.Option(help="test, easy, medium or hard.")] = "test",
    k: Annotated[str, typer.Option("--k", help="Comma-separated k of pass@k.")] = "1",
    output: Annotated[Optional[Path], typer.Option(help="Per-item results, one JSON line per item.")] = None,
    summary: Annotated[Optional[Path], typer.Option(help="Summary JSON: pass@k overall and by difficulty.")] = None,
    include_flagged: Annotated[bool, typer.Option(help="Also score items flagged as not reproducible.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds per call of a candidate.", min=0.01)] = 1.0,
    memory_mb: MemoryMB = 512,
    workers: Workers = None,
    verbose: Verbose = False,
) -> None:
    """Score completions (from a file or a server) on the eval split in the sandbox."""
    from ..evaluate import EvalConfig, evaluate

    setup_logging(verbose)
    with user_errors():
        if generator is not None:
            err_console.print("note: --generator is now --protocol for `eval` (in `build` it names the input writer)")
            protocol = generator
        if (predictions is None) == (endpoint is None):
            raise ConfigError("give exactly one of --predictions FILE or --endpoint URL", field="predictions")
        config = EvalConfig(ks=k, timeout=timeout, memory_mb=memory_mb, workers=workers, include_flagged=include_flagged)
        source: Any = predictions
        if endpoint is not None:
            from ..evaluate import load_items
            from ..evaluate.completions import CompletionConfig, generate_completions

            items = load_items(dataset, split=split, revision=revision)
            gen = CompletionConfig(endpoint=endpoint, generator=protocol, model=model, n=n, temperature=temperature,
                                   max_new_tokens=max_new_tokens, concurrency=concurrency)
            source = generate_completions(items, config=gen, out=save_predictions)
        report = evaluate(dataset, source, split=split, revision=revision, config=config, output=output, summary=summary)
    err_console.print(summary_table(report.summary, f"case2code eval: {dataset} [{split}]"))
    skipped = report.summary.get("skipped", {})
    if skipped.get("flagged"):
        err_console.print(f"{skipped['flagged']} flagged items skipped (--include-flagged to score them)")
    if report.summary.get("missing"):
        err_console.print(f"{report.summary['missing']} items had no prediction and count as failed")
    first = report.summary["pass@k"][next(iter(report.summary["pass@k"]))]
    typer.echo("n/a" if first is None else f"{first:.4f}")
