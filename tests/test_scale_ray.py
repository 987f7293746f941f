"""``--executor ray`` on a local Ray cluster (``ray.init(num_cpus=2)``): same bytes as the local executor."""

from __future__ import annotations

import pytest

from case2code_hub.builder import assemble, build
from case2code_hub.executors import ExecutorConfig
from case2code_hub.generation import generate
from case2code_hub.pipeline import GenerationConfig

from sample_corpus import digest, write_corpus

ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install "case2code-hub[ray]"')


def test_ray_executor_matches_local_bytes(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    work = tmp_path / "work"
    executor = ExecutorConfig(kind="ray", tasks=2, cpus_per_task=1, mem_per_cpu_gb=0.5, ray_num_cpus=2)
    summary = generate(GenerationConfig(corpus=str(corpus), seed=6), work, executor=executor)
    assert summary.completed == [0, 1] and not summary.pending
    assert not ray.is_initialized(), "the local cluster started for the run was left running"
    assemble(work, tmp_path / "ray" / "ds", eval_share=0.2)
    build(str(corpus), tmp_path / "local" / "ds", seed=6, tasks=2, eval_share=0.2)
    assert digest(tmp_path / "ray" / "ds") == digest(tmp_path / "local" / "ds")
