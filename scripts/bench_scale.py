"""Benchmark the build's scaling: time per function and peak memory at 1k, 10k and 100k functions.

Makes synthetic corpora in The Stack's layout (Parquet files with ``content`` and provenance
columns; each row a module of five functions of realistic shapes, constants varied so that
near-dedup keeps every one), runs the whole build on each (harvest, inputs, sandbox, selection,
shards, then the global steps and the Parquet dataset) in a fresh child process, and prints:

- functions/s and per-function time, and the ratio of per-function time at the largest size over
  the smallest (goal: <= 1.2, i.e. linear);
- peak RSS of the build process (``ru_maxrss`` of the child that runs every rank and the global
  steps; the sandbox zygotes are separate, fixed-size processes) and the peak of the whole process
  tree (sum of RSS over the child and all its descendants, sampled every 0.2 s). Goal: the build
  process under 2 GB at the largest size, and flat as the corpus grows.

    .venv/bin/python scripts/bench_scale.py [--sizes 1000 10000 100000] [--n-candidates 24] [--tasks 4]

Settings are the same for every size; functions/s is also given per core. The default is the
coverage search (what ``case2code build`` runs); ``--search none`` (the one-shot offline writer)
makes 100k feasible on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUNCTIONS_PER_MODULE = 5
ROWS_PER_FILE = 2000

TEMPLATES = [
    '''def normalize_{k}(text: str, width: int = {w}) -> str:
    """Collapse spaces, lower-case, and pad or cut to a width."""
    words = [w for w in text.strip().split(" ") if w]
    joined = "{sep}".join(word.lower() for word in words)
    if len(joined) > width:
        return joined[:width]
    return joined.ljust(width, "{pad}")
''',
    '''def keep_multiples_{k}(values: list, step: int = {m}) -> list:
    out = []
    for v in values:
        if v % step == 0:
            out.append(v * {a} - {b})
        elif v < 0:
            out.append(-v)
    return out
''',
    '''def tally_{k}(items: list) -> dict:
    counts = {{}}
    for item in items:
        key = str(item)[:{w}]
        counts[key] = counts.get(key, 0) + {m}
    return dict(sorted(counts.items()))
''',
    '''def parse_amount_{k}(s: str) -> int:
    s = s.strip().replace("_", "")
    if not s or not s.lstrip("-").isdigit():
        raise ValueError(f"not an amount: {{s!r}}")
    value = int(s)
    return value * {a} if value >= {b} else value - {m}
''',
    '''def steps_{k}(n: int) -> int:
    if n < 0:
        raise ValueError("negative")
    count = 0
    while n > {m} and count < {limit}:
        n = n // {m} if n % {m} == 0 else n - {a}
        count += 1
    return count + {b}
''',
    '''def bounds_{k}(values: list, default: int = {b}) -> tuple:
    if not values:
        return (default, default)
    low, high = values[0], values[0]
    for v in values[1:]:
        low = min(low, v)
        high = max(high, v + {a})
    return (low, high)
''',
    '''def find_index_{k}(values: list, target: int) -> int:
    lo, hi = 0, len(values) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if values[mid] == target + {b}:
            return mid
        if values[mid] < target + {b}:
            lo = mid + 1
        else:
            hi = mid - 1
    return -{a}
''',
    '''def checksum_{k}(data: str) -> str:
    total = {b}
    for index, ch in enumerate(data):
        total = (total * {m} + ord(ch) * (index + {a})) % {mod}
    return format(total, "x")
''',
]


def module_source(start: int) -> str:
    functions = []
    for j in range(FUNCTIONS_PER_MODULE):
        k = start + j
        template = TEMPLATES[k % len(TEMPLATES)]
        functions.append(template.format(
            k=k, w=k % 13 + 3, m=k % 7 + 2, a=k % 11 + 1, b=k, limit=50 + k % 50,
            mod=1_000_003 + k, sep="-_. "[k % 4], pad="*#.~"[k % 4],
        ))
    return "\n\n".join(functions)


def write_corpus(folder: Path, n_functions: int) -> Path:
    """Parquet files in The Stack's layout, ``n_functions`` distinct functions in all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    modules = -(-n_functions // FUNCTIONS_PER_MODULE)
    for file_index, first in enumerate(range(0, modules, ROWS_PER_FILE)):
        rows = [
            {
                "content": module_source(m * FUNCTIONS_PER_MODULE),
                "max_stars_repo_path": f"pkg_{m // 100}/mod_{m}.py",
                "max_stars_repo_name": f"bench/repo{m // 1000}",
                "max_stars_repo_licenses": ["MIT"],
            }
            for m in range(first, min(first + ROWS_PER_FILE, modules))
        ]
        pq.write_table(pa.Table.from_pylist(rows), folder / f"train-{file_index:05d}.parquet")
    return folder


def run_one(args: argparse.Namespace) -> None:
    """In the child: what ``build()`` does (generate, then assemble), with the bench's settings;
    report seconds and counts as one JSON line."""
    from case2code_hub.builder import assemble
    from case2code_hub.executors import ExecutorConfig
    from case2code_hub.generation import generate
    from case2code_hub.pipeline import GenerationConfig

    started = time.monotonic()
    config = GenerationConfig(corpus=args.corpus, seed=0, n_candidates=args.n_candidates, search=args.search)
    generate(config, args.work_dir, executor=ExecutorConfig(tasks=args.tasks, task_workers=1), workers=args.workers)
    generated = time.monotonic() - started
    summary = assemble(args.work_dir, args.out, decontaminate=False)
    seconds = time.monotonic() - started
    print(json.dumps({
        "seconds": seconds,
        "assemble_seconds": seconds - generated,
        "kept": summary.functions + summary.eval_items,
        "harvested": summary.counters.get("harvest/kept", 0),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


def _tree_rss_kb(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(stat[1]), []).append(int(name))
            rss[int(name)] = int(stat[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(n: int, args: argparse.Namespace, root: Path) -> dict:
    corpus = write_corpus(root / f"corpus-{n}", n)
    command = [
        sys.executable, __file__, "--one", "--corpus", str(corpus), "--out", str(root / f"ds-{n}"),
        "--work-dir", str(root / f"work-{n}"), "--tasks", str(args.tasks), "--n-candidates", str(args.n_candidates),
        "--search", args.search,
    ] + (["--workers", str(args.workers)] if args.workers else [])
    env = {**os.environ, "CASE2CODE_DISABLE_PROGRESS_BARS": "1"}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    peak_tree = 0
    while child.poll() is None:
        peak_tree = max(peak_tree, _tree_rss_kb(child.pid))
        time.sleep(0.2)
    out = child.stdout.read()
    if child.returncode != 0:
        raise SystemExit(f"build of {n} functions failed (exit {child.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(n=n, peak_tree_kb=peak_tree)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--n-candidates", type=int, default=24)
    parser.add_argument("--search", choices=["coverage", "none"], default="coverage",
                        help="the offline writer's coverage-guided search, or its one-shot proposals")
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--workers", type=int, default=None, help="sandbox workers (default: one per core)")
    parser.add_argument("--keep", type=Path, default=None, help="keep corpora and outputs here")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args)
        return

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    print(f"settings: search={args.search}, n_candidates={args.n_candidates}, tasks={args.tasks}, task_workers=1, "
          f"sandbox workers={args.workers or os.cpu_count()}, cores={cores}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=args.keep) as tmp:
        for n in args.sizes:
            r = measure(n, args, Path(tmp))
            results.append(r)
            print(
                f"n={n:>7,}  harvested={r['harvested']:>7,}  kept={r['kept']:>7,}  {r['seconds']:8.1f} s  {n / r['seconds']:7.1f} functions/s  "
                f"({n / r['seconds'] / cores:.2f} per core)  "
                f"{1000 * r['seconds'] / n:6.2f} ms/function (assembly {r['assemble_seconds']:.1f} s)  peak RSS build process {r['maxrss_kb'] / 1024:7.1f} MiB  "
                f"process tree {r['peak_tree_kb'] / 1024:7.1f} MiB",
                flush=True,
            )
    first, last = results[0], results[-1]
    ratio = (last["seconds"] / last["n"]) / (first["seconds"] / first["n"])
    print(f"per-function time ratio {last['n']:,} / {first['n']:,}: {ratio:.2f} (goal <= 1.2)")
    verdict = "under" if last["maxrss_kb"] < 2 * 1024 * 1024 else "OVER"
    print(f"peak RSS of the build process at {last['n']:,}: {last['maxrss_kb'] / 1024:.0f} MiB ({verdict} 2 GB); "
          f"growth {first['n']:,} -> {last['n']:,}: {last['maxrss_kb'] / first['maxrss_kb']:.2f}x")


if __name__ == "__main__":
    main()
