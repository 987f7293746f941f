"""Scale out: kill -9 and resume, corrupt shards, vanished corpus files, Slurm rendering, Hub streaming."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from case2code_hub.builder import assemble, build
from case2code_hub.errors import ConfigError, CorpusError, DatasetError
from case2code_hub.executors import ExecutorConfig, require_ray
from case2code_hub.generation import generate
from case2code_hub.harvest import sources
from case2code_hub.pipeline import GenerationConfig

from sample_corpus import digest, write_corpus

ROOT = Path(__file__).resolve().parents[1]


def write_generated(root: Path, files: int, per_file: int, *, offset: int = 0) -> None:
    """Distinct small functions (their constants differ, so near-dedup keeps them all)."""
    for f in range(files):
        body = []
        for j in range(per_file):
            k = offset + f * per_file + j
            body.append(
                f"def scaled_{k}(values: list, limit: int = {k % 7 + 2}) -> list:\n"
                f"    out = []\n"
                f"    for v in values[:limit]:\n"
                f"        if v % {k % 5 + 2} == 0:\n"
                f"            out.append(v * {k + 3} - {k})\n"
                f"        else:\n"
                f"            out.append(v + {k * 11 % 97})\n"
                f"    return out\n"
            )
        (root / f"gen_{offset // max(per_file, 1) + f:03d}.py").write_text("\n\n".join(body))


def corpus_with_generated(root: Path) -> Path:
    corpus = write_corpus(root)
    write_generated(root, files=6, per_file=6)
    return corpus


def _descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(name))
        starts[int(name)] = fields[19]
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def _alive(pid: int, start: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == start and fields[0] != "Z"


def test_kill9_of_the_whole_run_then_rerun_gives_identical_bytes(tmp_path):
    corpus = corpus_with_generated(tmp_path / "corpus")
    reference = tmp_path / "ref" / "ds"
    # A generous per-call timeout: on a loaded CI machine a 1 s limit could flip an outcome between runs.
    build(str(corpus), reference, seed=3, tasks=4, task_workers=2, workers=1, eval_share=0.2, timeout=5.0,
          work_dir=tmp_path / "ref-work")

    work, out = tmp_path / "work", tmp_path / "run" / "ds"
    command = [
        sys.executable, "-m", "case2code_hub", "build", "--corpus", str(corpus), "--out", str(out),
        "--work-dir", str(work), "--tasks", "4", "--task-workers", "2", "--workers", "1",
        "--seed", "3", "--eval-share", "0.2", "--timeout", "5",
    ]
    # SIGKILL leaves no chance to remove the sandboxes' scratch folders: they go under tmp_path,
    # not the machine's /tmp.
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "tmp")}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    completions = work / "logs" / "completions"
    deadline = time.monotonic() + 120
    while not (completions.is_dir() and any(completions.iterdir())):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no rank finished in 120 s"
        time.sleep(0.02)
    # A fixed moment, so that every run kills the same way: the other ranks are mid-flight (two run
    # at once, four in all), the first rank's shard and marker are written.
    delay = 0.3
    print(f"killing {delay:.2f} s after the first rank finished")
    time.sleep(delay)
    tree = _descendants(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
    process.stderr.close()
    # The sandbox zygotes live in sessions of their own; they must still go down with the run.
    deadline = time.monotonic() + 30
    while (left := [pid for pid, start in tree.items() if _alive(pid, start)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left behind by the killed run: {left}"
    finished = sorted(p.name for p in completions.iterdir())
    print(f"ranks finished before the kill: {finished}; processes in the killed tree: {len(tree)}")

    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got, want = digest(out), digest(reference)
    assert got == want, f"files that differ: {sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))}"


def test_corrupt_shard_names_rank_and_file_and_keeps_finished_ranks(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    work = tmp_path / "work"
    config = GenerationConfig(corpus=str(corpus), seed=5)
    generate(config, work, executor=ExecutorConfig(tasks=2), workers=1)
    assemble(work, tmp_path / "a" / "ds", eval_share=0.2)
    shard0, shard1 = work / "shards" / "00000.jsonl", work / "shards" / "00001.jsonl"
    kept = shard0.stat().st_mtime_ns
    good = shard1.read_bytes()
    shard1.write_bytes(good[: len(good) // 2])  # cut mid-line

    with pytest.raises(DatasetError, match=r"corrupt shard of rank 1") as caught:
        assemble(work, tmp_path / "b" / "ds", eval_share=0.2)
    assert str(shard1) in str(caught.value)

    shard1.unlink()  # as the message says: delete it and rerun
    summary = generate(config, work, executor=ExecutorConfig(tasks=2), workers=1)
    assert summary.completed == [0, 1]
    assert shard0.stat().st_mtime_ns == kept, "the finished rank was redone"
    assert shard1.read_bytes() == good
    assemble(work, tmp_path / "b" / "ds", eval_share=0.2)
    assert digest(tmp_path / "b" / "ds") == digest(tmp_path / "a" / "ds")


def test_corpus_file_vanishing_mid_run_names_rank_and_file(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    victim = corpus / "text_utils.py"  # dealt to rank 1 of 2 (sorted: broken, latin1, numbers, pkg/.., text_utils)
    real_read = sources._read_file
    reads = []

    def vanishing_read(path, source):
        # The first read is the call-site index's, before any rank starts; the file vanishes
        # between its rank's listing and its rank's read.
        if path == victim and victim.exists():
            reads.append(path)
            if len(reads) == 2:
                victim.rename(tmp_path / "aside.py")
        return real_read(path, source)

    monkeypatch.setattr(sources, "_read_file", vanishing_read)
    config = GenerationConfig(corpus=str(corpus), seed=2)
    with pytest.raises(CorpusError, match=r"rank \d: cannot read corpus file .*text_utils\.py") as caught:
        generate(config, tmp_path / "work", executor=ExecutorConfig(tasks=2), workers=1)
    rank = int(str(caught.value).split(":")[0].split()[1])
    assert (tmp_path / "work" / "logs" / "completions" / f"{1 - rank:05d}").exists(), "the other rank was not kept"
    assert not (tmp_path / "work" / "shards" / f"{rank:05d}.jsonl").exists()

    monkeypatch.setattr(sources, "_read_file", real_read)
    (tmp_path / "aside.py").rename(victim)
    summary = generate(config, tmp_path / "work", executor=ExecutorConfig(tasks=2), workers=1)
    assert summary.completed == [0, 1] and not summary.pending


def test_slurm_renders_sbatch_script_and_its_per_rank_command_runs_a_rank(tmp_path, monkeypatch):
    import datatrove.executor.slurm as slurm

    corpus = write_corpus(tmp_path / "corpus")
    scripts: list[tuple[str, tuple]] = []

    def fake_sbatch(contents, job_id_retriever, *args):
        scripts.append((contents, args))
        return str(4242 + len(scripts))

    monkeypatch.setattr(slurm, "launch_slurm_job", fake_sbatch)
    executor = ExecutorConfig(
        kind="slurm", tasks=2, partition="cpu", time="02:00:00", cpus_per_task=3, mem_per_cpu_gb=1.5,
        env_command="source /opt/venv/bin/activate", qos="high", job_name="c2c-test",
    )
    work = tmp_path / "work"
    config = GenerationConfig(corpus=str(corpus), seed=4)
    summary = generate(config, work, executor=executor)
    assert summary.pending == [0, 1] and summary.job_id == "4243"

    script, args = scripts[0]
    assert script.startswith("#!/bin/bash\n")
    for line in ("--partition=cpu", "--cpus-per-task=3", "--mem-per-cpu=1.5G", "--time=02:00:00",
                 "--job-name=c2c-test", "--array=0-1", "--qos=high", "--requeue"):
        assert f"#SBATCH {line}" in script
    assert "source /opt/venv/bin/activate" in script
    pickled = work / "logs" / "executor.pik"
    assert f"launch_pickled_pipeline {pickled}" in script
    assert args[0] == "--export=ALL,RUN_OFFSET=0"
    assert "merge_stats" in scripts[1][0] and "--dependency=afterok:4243" not in scripts[1][1]

    # What each array task runs, run here by hand: rank by rank, as Slurm would.
    launcher = Path(sys.executable).with_name("launch_pickled_pipeline")
    if not launcher.exists():
        pytest.skip(f"datatrove's launch_pickled_pipeline is not next to {sys.executable}")
    # datatrove expands the node list with `scontrol show hostnames`; a stand-in answers for one node.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text("#!/bin/sh\necho localhost\n")
    (bin_dir / "scontrol").chmod(0o755)
    for task in ("0", "1"):
        env = {**os.environ, "SLURM_ARRAY_TASK_ID": task, "SLURM_NODELIST": "localhost", "PYTHONPATH": str(ROOT),
               "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
        done = subprocess.run([str(launcher), str(pickled)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
    assemble(work, tmp_path / "slurm" / "ds", eval_share=0.2)
    build(str(corpus), tmp_path / "local" / "ds", seed=4, tasks=2, eval_share=0.2)
    assert digest(tmp_path / "slurm" / "ds") == digest(tmp_path / "local" / "ds")


def test_executor_config_names_the_bad_field(monkeypatch):
    with pytest.raises(ConfigError) as caught:
        ExecutorConfig(kind="slurm", tasks=2)
    assert caught.value.field == "partition"
    with pytest.raises(ConfigError) as caught:
        ExecutorConfig(kind="spark")  # type: ignore[arg-type]
    assert caught.value.field == "executor"
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r'pip install "case2code-hub\[ray\]"'):
        require_ray()


def test_assemble_refuses_unfinished_work_dir(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    work = tmp_path / "work"
    generate(GenerationConfig(corpus=str(corpus), seed=1), work, executor=ExecutorConfig(tasks=2), workers=1)
    (work / "logs" / "completions" / "00001").unlink()
    with pytest.raises(DatasetError, match="ranks 1 of 2 have not finished"):
        assemble(work, tmp_path / "ds")
    with pytest.raises(DatasetError, match="not a case2code work dir"):
        assemble(tmp_path / "corpus", tmp_path / "ds")


def _stack_rows(part: int, n: int) -> list[dict]:
    return [
        {
            "content": f"def area_{part}_{j}(w: int, h: int) -> int:\n    if w < 0 or h < 0:\n        raise ValueError('negative')\n    return w * h + {part * 100 + j}\n",
            "max_stars_repo_path": f"src/geo_{part}_{j}.py",
            "max_stars_repo_name": f"user{part}/geometry",
            "max_stars_repo_licenses": ["MIT"],
        }
        for j in range(n)
    ]


def test_hub_dataset_in_the_stack_layout_is_streamed(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import HfApi, HfFileSystem

    from hub_server import running_hub

    local = tmp_path / "local" / "data" / "python"
    local.mkdir(parents=True)
    with running_hub(monkeypatch) as server:
        api = HfApi(token="hf_testtoken")
        api.create_repo("bigcode/stack-mini", repo_type="dataset")
        for part in range(3):
            buffer = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(_stack_rows(part, 7)), buffer, row_group_size=3)
            name = f"train-{part:05d}-of-00003.parquet"
            (local / name).write_bytes(buffer.getvalue())
            api.upload_file(path_or_fileobj=buffer.getvalue(), path_in_repo=f"data/python/{name}",
                            repo_id="bigcode/stack-mini", repo_type="dataset")
        HfFileSystem.clear_instance_cache()  # an instance from another test points at another server
        url = "hf://datasets/bigcode/stack-mini/data/python"
        for rank in range(2):
            remote = list(sources.iter_documents(url, rank=rank, world_size=2))
            here = list(sources.iter_documents(str(local), rank=rank, world_size=2))
            assert [d.text for d in remote] == [d.text for d in here] and remote
            assert remote[0].source.corpus == "bigcode/stack-mini"
            assert remote[0].source.repo.startswith("user") and remote[0].source.license == "MIT"
        resolves = [r for r in server.state.requests if "/resolve/" in r]
        assert resolves, "the files were not read through the Hub's resolve route"
        # Generation reads the same rows from the Hub as from disk.
        work = tmp_path / "work"
        generate(GenerationConfig(corpus=url, seed=0, n_candidates=12), work, executor=ExecutorConfig(tasks=2), workers=1)
    assert sum(1 for p in (work / "shards").glob("*.jsonl") for _ in p.open()) >= 15
    HfFileSystem.clear_instance_cache()


def test_missing_hub_path_is_a_clear_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus not found"):
        generate(GenerationConfig(corpus=f"file://{tmp_path}/nothing"), tmp_path / "work")


def test_cli_generate_then_assemble_equals_build(tmp_path):
    from typer.testing import CliRunner

    from case2code_hub.cli import app

    corpus = write_corpus(tmp_path / "corpus")
    runner = CliRunner()
    work = tmp_path / "work"
    done = runner.invoke(app, ["generate", "--corpus", str(corpus), "--work-dir", str(work), "--tasks", "2",
                               "--task-workers", "2", "--workers", "1", "--seed", "8"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["assemble", "--work-dir", str(work), "--out", str(tmp_path / "cli" / "ds"), "--eval-share", "0.2"])
    assert done.exit_code == 0, done.output
    build(str(corpus), tmp_path / "api" / "ds", seed=8, tasks=2, eval_share=0.2)
    assert digest(tmp_path / "cli" / "ds") == digest(tmp_path / "api" / "ds")

    bad = runner.invoke(app, ["generate", "--corpus", str(corpus), "--work-dir", str(tmp_path / "w2"), "--executor", "slurm"])
    assert bad.exit_code == 1 and "partition" in bad.output
