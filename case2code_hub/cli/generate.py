"""``case2code generate`` (sharded generation into a work dir, on a local pool, Slurm or Ray) and
``case2code assemble`` (the dataset folder from a finished work dir).

Parallelism has two levels, named apart: ``--tasks`` ranks shard the corpus and ``--task-workers``
of them run at once (datatrove); inside each rank ``--workers`` sandbox processes run the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import err_console, setup_logging, user_errors
from .options import Concurrency, Decontaminate, Endpoint, Generator, Model, Search, Seed, Strict, Verbose, Workers

Tasks = Annotated[int, typer.Option(help="Ranks (shards) the corpus is split into; fixed for a work dir.", min=1)]
TaskWorkers = Annotated[
    Optional[int],
    typer.Option(help="Ranks run at the same time (local default 1; Slurm: array limit; Ray default all).", min=1),
]


def generate(
    corpus: Annotated[str, typer.Option(help="'stdlib', a folder, JSONL/Parquet with a 'content' column, or hf://datasets/ORG/NAME/PATH.")] = "stdlib",
    work_dir: Annotated[Path, typer.Option(help="Shards, logs and completion markers; rerun to resume.")] = Path("case2code-work"),
    tasks: Tasks = 1,
    task_workers: TaskWorkers = None,
    workers: Workers = None,
    executor: Annotated[str, typer.Option(help="local, slurm or ray.")] = "local",
    seed: Seed = 0,
    max_functions: Annotated[Optional[int], typer.Option(help="Harvest at most this many functions.", min=1)] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per call in the sandbox.")] = 1.0,
    n_candidates: Annotated[int, typer.Option(help="Candidate inputs proposed per function.", min=5)] = 24,
    cpus_per_task: Annotated[int, typer.Option(help="Slurm/Ray: CPUs per rank (also its sandbox workers).", min=1)] = 1,
    mem_per_cpu_gb: Annotated[float, typer.Option(help="Slurm/Ray: memory per CPU, GB.")] = 2.0,
    partition: Annotated[Optional[str], typer.Option(help="Slurm partition.")] = None,
    time: Annotated[str, typer.Option("--time", help="Slurm time limit per rank.")] = "24:00:00",
    qos: Annotated[Optional[str], typer.Option(help="Slurm QOS.")] = None,
    job_name: Annotated[str, typer.Option(help="Slurm job name.")] = "case2code",
    slurm_logs: Annotated[Optional[str], typer.Option(help="Slurm log folder (default: <work-dir>/logs/slurm_logs).")] = None,
    env_command: Annotated[Optional[str], typer.Option(help="Slurm: shell line that activates the environment.")] = None,
    ray_address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: start a local one).")] = None,
    generator: Generator = "offline",
    search: Search = "coverage",
    endpoint: Endpoint = None,
    model: Model = None,
    concurrency: Concurrency = None,
    strict: Strict = False,
    verbose: Verbose = False,
) -> None:
    """Harvest, write inputs, execute and select cases, one shard per rank, in --work-dir.

    A writer model's token comes from HF_TOKEN (or the saved login) on the machines that run the
    ranks: it is never written into a job script or the work dir."""
    from ..executors import ExecutorConfig
    from ..generation import generate as run_generate
    from ..pipeline import GenerationConfig

    setup_logging(verbose)
    with user_errors():
        config = GenerationConfig(
            corpus=corpus, seed=seed, max_functions=max_functions, timeout=timeout, n_candidates=n_candidates, strict=strict,
            generator=generator, search=search, endpoint=endpoint, model=model, concurrency=concurrency,
        )
        executor_config = ExecutorConfig(
            kind=executor, tasks=tasks, task_workers=task_workers, cpus_per_task=cpus_per_task,
            mem_per_cpu_gb=mem_per_cpu_gb, partition=partition, time=time, qos=qos, job_name=job_name,
            slurm_logs=slurm_logs, env_command=env_command, ray_address=ray_address,
        )
        summary = run_generate(config, work_dir, executor=executor_config, workers=workers)
    if summary.pending:
        err_console.print(
            f"submitted {len(summary.pending)} of {summary.tasks} ranks"
            + (f" (job {summary.job_id})" if summary.job_id else "")
            + f"; when they finish: case2code assemble --work-dir {work_dir} --out OUT"
        )
    else:
        err_console.print(f"{summary.tasks} ranks done in {summary.seconds:.1f} s; next: case2code assemble --work-dir {work_dir} --out OUT")
    typer.echo(str(summary.work_dir))


def assemble(
    work_dir: Annotated[Path, typer.Option(help="A work dir whose ranks have all finished.")] = Path("case2code-work"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to write.")] = Path("case2code"),
    eval_share: Annotated[float, typer.Option(help="Share of functions held out for the eval config.")] = 0.05,
    decontaminate: Decontaminate = "humaneval",
    verbose: Verbose = False,
) -> None:
    """Write the dataset folder from a work dir's shards (cross-shard dedup, split, difficulty, card)."""
    from ..builder import assemble as run_assemble

    setup_logging(verbose)
    with user_errors():
        summary = run_assemble(work_dir, out, eval_share=eval_share, decontaminate=decontaminate)
    err_console.print(
        f"{summary.functions} train functions, {summary.prompted_rows} prompted rows, {summary.eval_items} eval items"
    )
    typer.echo(str(summary.out_dir))
