"""Which datatrove executor runs the per-rank generation stages: local processes, Slurm, or Ray.

We write no cluster code: each choice maps onto datatrove's own executor, which shards by rank and
skips ranks whose ``completions/`` marker exists. Ray is an optional extra, imported only here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError
from .utils.logging import get_logger

logger = get_logger(__name__)

ExecutorKind = Literal["local", "slurm", "ray"]
EXECUTOR_KINDS: tuple[str, ...] = ("local", "slurm", "ray")
RAY_INSTALL_HINT = 'Ray is an optional extra: pip install "case2code-hub[ray]"'


@dataclass
class ExecutorConfig:
    """How the ranks are run.

    Attributes:
        kind: ``local`` (a process pool on this machine), ``slurm`` (a job array, submitted with
            ``sbatch``; generation then runs on the cluster and ``case2code assemble`` follows) or
            ``ray`` (tasks on a Ray cluster; a local one is started when no address is given).
        tasks: ranks the corpus is sharded into; fixed for the life of a work dir.
        task_workers: ranks run at the same time (local: default 1, each rank's sandbox then uses
            every core; Slurm: the array's ``%`` limit; Ray: default all).
        partition, time, cpus_per_task, mem_per_cpu_gb, qos, job_name, slurm_logs, env_command,
            sbatch_args: Slurm settings, passed to datatrove's ``SlurmPipelineExecutor``.
        ray_address: an existing Ray cluster (``ray.init(address=...)``); ``None`` starts a local
            one with ``ray_num_cpus`` CPUs.
    """

    kind: ExecutorKind = "local"
    tasks: int = 1
    task_workers: int | None = None
    cpus_per_task: int = 1
    mem_per_cpu_gb: float = 2.0
    partition: str | None = None
    time: str = "24:00:00"
    qos: str | None = None
    job_name: str = "case2code"
    slurm_logs: str | None = None
    env_command: str | None = None
    sbatch_args: dict[str, Any] = field(default_factory=dict)
    ray_address: str | None = None
    ray_num_cpus: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise ConfigError(f"executor must be one of {', '.join(EXECUTOR_KINDS)}, got {self.kind!r}", field="executor")
        if not isinstance(self.tasks, int) or self.tasks < 1:
            raise ConfigError(f"tasks must be >= 1, got {self.tasks}", field="tasks")
        if self.task_workers is not None and self.task_workers < 1:
            raise ConfigError(f"task_workers must be >= 1, got {self.task_workers}", field="task_workers")
        if self.cpus_per_task < 1:
            raise ConfigError(f"cpus_per_task must be >= 1, got {self.cpus_per_task}", field="cpus_per_task")
        if self.mem_per_cpu_gb <= 0:
            raise ConfigError(f"mem_per_cpu_gb must be > 0, got {self.mem_per_cpu_gb}", field="mem_per_cpu_gb")
        if self.kind == "slurm" and not self.partition:
            raise ConfigError("the slurm executor needs a partition (--partition)", field="partition")
        if self.ray_num_cpus is not None and self.ray_num_cpus < 1:
            raise ConfigError(f"ray_num_cpus must be >= 1, got {self.ray_num_cpus}", field="ray_num_cpus")

    @property
    def waits(self) -> bool:
        """Whether ``run`` returns only after every rank ran (Slurm submits and returns)."""
        return self.kind != "slurm"


def make_executor(steps: list, config: ExecutorConfig, *, logging_dir: str | Path) -> Any:
    """The datatrove executor for ``config`` over ``steps``.

    Args:
        steps: the per-rank pipeline (see :func:`case2code_hub.pipeline.generation_steps`).
        config: which executor and its settings.
        logging_dir: datatrove's folder for ``completions/``, ``stats/`` and logs.

    Returns:
        A ``LocalPipelineExecutor``, ``SlurmPipelineExecutor`` or ``RayPipelineExecutor``.

    Raises:
        ConfigError: Ray is asked for but not installed (the message names the pip command).
    """
    logging_dir = str(logging_dir)
    if config.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(steps, tasks=config.tasks, workers=config.task_workers or 1, logging_dir=logging_dir)
    if config.kind == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        return SlurmPipelineExecutor(
            steps,
            tasks=config.tasks,
            workers=config.task_workers or -1,
            time=config.time,
            partition=config.partition,
            cpus_per_task=config.cpus_per_task,
            mem_per_cpu_gb=config.mem_per_cpu_gb,
            job_name=config.job_name,
            qos=config.qos or "",
            env_command=config.env_command,
            sbatch_args=dict(config.sbatch_args) or None,
            slurm_logs_folder=config.slurm_logs,
            logging_dir=logging_dir,
        )
    require_ray()
    from datatrove.executor.ray import RayPipelineExecutor

    return RayPipelineExecutor(
        steps,
        tasks=config.tasks,
        workers=config.task_workers or -1,
        cpus_per_task=config.cpus_per_task,
        mem_per_cpu_gb=config.mem_per_cpu_gb,
        logging_dir=logging_dir,
    )


def require_ray() -> Any:
    """Import Ray or fail with the install command.

    Raises:
        ConfigError: Ray is not installed.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_INSTALL_HINT, field="executor") from None
    return ray


def run_executor(executor: Any, config: ExecutorConfig) -> None:
    """Run ``executor``; for Ray, connect to (or start) the cluster first and leave it as found."""
    if config.kind != "ray":
        executor.run()
        return
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        if config.ray_address:
            ray.init(address=config.ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=config.ray_num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        executor.run()
    finally:
        if started_here:
            ray.shutdown()
