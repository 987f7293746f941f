"""Benchmark the offline input writers' quality against the official writer model's inputs.

On the official Case2Code test functions (``../shared/reference/case2code-test.jsonl``), runs the
coverage-guided search (and the one-shot offline writer), then measures, with the sandbox's own
coverage and the same code for every writer, the official writer's first 10 inputs
(``parsed_inputs``) and ours, side by side. ``--stdlib N`` measures the same on the first N
functions of the default build's corpus (the standard library), where there is no official writer.

    .venv/bin/python scripts/bench_inputs.py [--limit 500] [--stdlib 1300] [--max-calls 160]

Prints, per writer: mean line coverage, full line-coverage share, mean branch coverage, returning
calls share (goals for the search: >= 0.96, >= 91%, -, >= 94% on the official functions), and
beside the search's line its effort: calls and CPU-seconds per function (this process, which
proposes the inputs, plus the sandbox's workers and their children).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from case2code_hub.inputs import OfflineInputWriter
from case2code_hub.inputs.search import SearchConfig, SearchingWriter
from case2code_hub.quality import measure, summarise
from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.sandbox.coverage import coverage_map
from case2code_hub.schema import ExecutionTask, Function, Source, function_id

REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "case2code-test.jsonl"


def official_functions(path: Path, limit: int | None) -> tuple[list[Function], list[list[str]]]:
    """The official functions and their writer's first 10 inputs, as ``name=value`` argument lists."""
    functions, inputs = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            functions.append(Function(id=function_id(row["code"]), entry_point=row["func_name"], code=row["code"],
                                      source=Source("case2code-test", row["id"])))
            # A value that is not in our literal grammar stays as written: the sandbox reports it
            # as unserializable, a call that does not return (and covers nothing).
            inputs.append([", ".join(f"{name}={value}" for name, value in call) for call in row["parsed_inputs"][:10]])
            if limit is not None and len(functions) >= limit:
                break
    return functions, inputs


def stdlib_functions(limit: int) -> list[Function]:
    from case2code_hub.harvest import harvest

    out = []
    for function in harvest("stdlib", max_chars=8000, max_lines=300):
        out.append(function)
        if len(out) >= limit:
            break
    return out


def measure_inputs(sandbox: Sandbox, functions: list[Function], inputs: list[list[str]]) -> dict:
    """Run every function's inputs with coverage in ``sandbox`` and summarise their quality."""
    tasks = [ExecutionTask(id=f.id, code=f.code, entry_point=f.entry_point, inputs=i, coverage=True)
             for f, i in zip(functions, inputs)]
    qualities = []
    for function, task, result in zip(functions, tasks, sandbox.run(tasks)):
        if not task.inputs:
            qualities.append({"line_coverage": 0.0, "branch_coverage": 0.0, "returned_share": 0.0,
                              "raised_share": 0.0, "distinct_outputs": 0, "n_cases": 0})
            continue
        qualities.append(measure(function.code, function.entry_point, result.cases, result.coverage,
                                 cmap=coverage_map(function.code, function.entry_point)))
    return summarise(qualities)


def line(name: str, summary: dict) -> str:
    return (f"{name:<28} mean line coverage {summary.get('mean line coverage', 0):.3f}  "
            f"full line coverage {summary.get('full line coverage share', 0):6.1%}  "
            f"mean branch coverage {summary.get('mean branch coverage', 0):.3f}  "
            f"returning calls {summary.get('returning calls share', 0):6.1%}  "
            f"(functions {summary['functions']})")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_search(sandbox: Sandbox, functions: list[Function], config: SearchConfig) -> tuple[list[list[str]], dict]:
    began = time.monotonic()
    own, workers = _own_cpu(), sandbox.cpu_seconds()
    writer = SearchingWriter(sandbox, config)
    inputs, calls, stops = [], 0, {}
    for result in writer.search(functions):
        inputs.append(result.inputs)
        calls += result.calls
        stops[result.stop] = stops.get(result.stop, 0) + 1
    seconds = time.monotonic() - began
    own, workers = _own_cpu() - own, sandbox.cpu_seconds() - workers
    n = max(len(functions), 1)
    info = {"seconds": seconds, "calls per function": calls / n, "stops": dict(sorted(stops.items())),
            "cpu per function": (own + workers) / n, "own cpu per function": own / n, "worker cpu per function": workers / n}
    return inputs, info


def _effort(info: dict) -> str:
    return (f"{info['calls per function']:.1f} calls per function, {info['cpu per function']:.3f} CPU-s per function "
            f"(this process {info['own cpu per function']:.3f}, sandbox workers {info['worker cpu per function']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--limit", type=int, default=None, help="official functions to use (default all 500)")
    parser.add_argument("--stdlib", type=int, default=0, help="also measure this many stdlib functions")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-calls", type=int, default=SearchConfig.max_calls)
    args = parser.parse_args()
    config = SearchConfig(seed=args.seed, max_calls=args.max_calls)
    budget = (f"search budget: at most {config.max_calls} calls per function ({config.first_round} first, then rounds "
              f"of {config.round_size}, patience {config.patience}), 1 s per call, runs=1")
    print(budget)
    # runs=1: measuring coverage needs no determinism check, and both writers are measured alike.
    with Sandbox(SandboxConfig(workers=args.workers, runs=1)) as sandbox:
        functions, official = official_functions(args.reference.resolve(), args.limit)
        ours, info = run_search(sandbox, functions, config)
        one_shot = [OfflineInputWriter(seed=args.seed, n_candidates=10).write(f) for f in functions]
        print(f"official test functions: {len(functions)}; search took {info['seconds']:.1f} s, {_effort(info)}, "
              f"stops {info['stops']}")
        print(line("official writer (70B)", measure_inputs(sandbox, functions, official)))
        print(line("offline search (ours)", measure_inputs(sandbox, functions, ours)))
        print(line("offline one-shot (ours)", measure_inputs(sandbox, functions, one_shot)))
        if args.stdlib:
            functions = stdlib_functions(args.stdlib)
            ours, info = run_search(sandbox, functions, config)
            one_shot = [OfflineInputWriter(seed=args.seed, n_candidates=10).write(f) for f in functions]
            print(f"stdlib functions: {len(functions)}; search took {info['seconds']:.1f} s, {_effort(info)}, "
                  f"stops {info['stops']}")
            print(line("stdlib: offline search", measure_inputs(sandbox, functions, ours)))
            print(line("stdlib: offline one-shot", measure_inputs(sandbox, functions, one_shot)))


if __name__ == "__main__":
    main()
