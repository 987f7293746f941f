"""Benchmark the RL reward: a GRPO step's batch of completions scored in one call, against the same
completions scored one call each (the same warm reward, so only the batching differs).

The workload: 16 pure functions over lists of ints (``bench_sandbox``'s container templates), 10
hidden cases each, and 4 completions per function (as GRPO samples several per prompt): two right
ones written differently, a wrong one, and one right on part of the cases: 64 completions × 10
cases. Every completion's code is distinct, as sampled completions are. Run with the project venv:

    .venv/bin/python scripts/bench_rewards.py [--completions 64] [--cases 10] [--workers 2]

Prints both throughputs, that the two ways gave the same rewards, and ``rewards: batch/one-by-one
throughput ratio = X``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sandbox import CONTAINER_TEMPLATES  # noqa: E402

from case2code_hub import CaseReward  # noqa: E402
from case2code_hub.evaluate import EvalConfig  # noqa: E402
from case2code_hub.literals import format_arguments  # noqa: E402


def _cases(code: str, name: str, rng: random.Random, n: int) -> list[dict]:
    namespace: dict = {}
    exec(compile(code, name, "exec"), namespace)  # benchmark-authored code, to know the answers
    cases = []
    for _ in range(n):
        xs, k = [rng.randint(-99, 99) for _ in range(rng.randint(5, 40))], rng.randint(1, 5)
        cases.append({"input": format_arguments([xs, k]), "output": repr(namespace[name](xs, k)), "outcome": "returned"})
    return cases


def workload(completions: int, n_cases: int, seed: int) -> tuple[list[str], list[str], list[list[dict]]]:
    rng = random.Random(seed)
    texts, names, hidden = [], [], []
    functions = completions // 4
    for i in range(functions):
        name = f"f_{i}"
        code = CONTAINER_TEMPLATES[i % len(CONTAINER_TEMPLATES)].format(name=name, a=rng.randint(1, 9), b=rng.randint(2, 13))
        cases = _cases(code, name, rng, n_cases)
        body = code.split("\n", 1)[1]
        variants = [
            code,
            f"def {name}(xs, k):\n    # sampled {i}\n{body}",
            f"def {name}(xs, k):\n    return sorted(xs)[:k]\n",
            f"def {name}(xs, k):\n    if len(xs) % 2:\n        return None\n{body}",
        ]
        for v, variant in enumerate(variants):
            texts.append(f"Here is the function ({i}.{v}):\n\n```python\n{variant}```")
            names.append(name)
            hidden.append(cases)
    return texts, names, hidden


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=64)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="batches timed (the best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts, names, hidden = workload(args.completions, args.cases, args.seed)
    print(f"workload: {len(texts)} completions x {args.cases} hidden cases, {args.workers} workers")
    with CaseReward(config=EvalConfig(workers=args.workers)) as reward:
        reward(texts[:1], entry_point=names[:1], hidden_cases=hidden[:1])  # start the sandbox outside the timing
        batch_seconds = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            batched = reward(texts, entry_point=names, hidden_cases=hidden)
            batch_seconds.append(time.perf_counter() - began)
        single_seconds = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            singles = [reward([t], entry_point=[n], hidden_cases=[h])[0] for t, n, h in zip(texts, names, hidden)]
            single_seconds.append(time.perf_counter() - began)
    batch, single = min(batch_seconds), min(single_seconds)
    print(f"rewards: mean {sum(batched) / len(batched):.3f}; {sum(r == 1.0 for r in batched)} at 1.0, "
          f"{sum(r == 0.0 for r in batched)} at 0.0; the same one by one: {batched == singles}")
    print(f"(a) one call per completion: {single:.3f} s, {len(texts) / single:,.1f} completions/s")
    print(f"(b) one call per batch:      {batch:.3f} s, {len(texts) / batch:,.1f} completions/s")
    print(f"rewards: batch/one-by-one throughput ratio = {single / batch:.2f}")


if __name__ == "__main__":
    main()
