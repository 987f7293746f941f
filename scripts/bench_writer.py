"""Benchmark of the LLM input writer against the TGI-protocol test server.

The server (``tests/tgi_server.py``, in its own process) answers after L seconds and serves at
most C requests at once (429 past that), so the ideal rate is C / L requests per second. Prints
the achieved rate over that ideal as a ratio (goal >= 0.9), the 429s provoked (goal 0), then the
same with 20% of requests answered 503 (every function must still get its answer). The client's
CPU per request (HTTP, parsing the answers) is what keeps the ratio under 1 on a small machine,
where the server shares the cores. With 1000 functions the last of 32 rounds is a quarter full,
so even a client that cost nothing would measure 1000 / (32 x 32) = 0.977.

    python scripts/bench_writer.py [--functions 1000] [--latency 0.2] [--max-concurrent 32] [--build-functions 120]

First, a whole build through the stub with C=4, L=0.5 s (the model's inputs seed the coverage
search, which waits for them): the share of the server's slots busy from its first request to its
last answer (goal >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from case2code_hub.inputs.llm import LLMInputWriter, LLMWriterConfig  # noqa: E402
from case2code_hub.schema import Function, Source, function_id  # noqa: E402


def functions(n: int) -> list[Function]:
    out = []
    for i in range(n):
        code = f"def f{i}(xs: list, k: int, sep: str = ','):\n    return sep.join(str(x * k + {i}) for x in xs)\n"
        out.append(Function(id=function_id(code), entry_point=f"f{i}", code=code, source=Source("bench", f"f{i}.py")))
    return out


def run(args: argparse.Namespace, p_503: float) -> dict:
    command = [sys.executable, str(ROOT / "tests/tgi_server.py"), "--no-schema", "--latency", str(args.latency),
               "--max-concurrent", str(args.max_concurrent), "--p-503", str(p_503)]  # fmt: skip
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[-1]
        config = LLMWriterConfig(generator="tgi", endpoint=url, n_inputs=10, cache_dir=None, backoff_base=0.05, backoff_max=2.0)
        writer = LLMInputWriter(config)
        fns = functions(args.functions)
        started, cpu_started = time.perf_counter(), time.process_time()
        answered = sum(1 for written in writer.write_many(fns) if written.info["error"] is None and written.inputs)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        with urllib.request.urlopen(url + "/_stats") as response:
            server_stats = json.loads(response.read())
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    ideal = args.max_concurrent / args.latency
    achieved = writer.stats["answered"] / wall
    return {
        "p_503": p_503,
        "functions": len(fns),
        "answered": answered,
        "wall_s": wall,
        "achieved_rps": achieved,
        "ideal_rps": ideal,
        "ratio": achieved / ideal,
        "server_429": server_stats["stats"].get("429", 0),
        "server_503": server_stats["stats"].get("fault/503", 0),
        "client_retries": writer.stats["retries"],
        "concurrency": writer.concurrency,
        "peak_active": server_stats["peak_active"],
        "client_cpu_ms": 1000 * cpu / max(writer.stats["requests"], 1),
    }


def run_build(functions: int, latency: float, max_concurrent: int) -> dict:
    """A whole build through the stub (the model's inputs seeding the coverage search): how busy it
    keeps a server of C slots and L seconds per answer, from its first request to its last answer."""
    from case2code_hub.builder import build

    command = [sys.executable, str(ROOT / "tests/tgi_server.py"), "--no-schema", "--latency", str(latency),
               "--max-concurrent", str(max_concurrent)]  # fmt: skip
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[-1]
        with tempfile.TemporaryDirectory() as folder:
            os.environ["CASE2CODE_CACHE"] = "off"  # every answer asked for, none from an earlier run
            summary = build("stdlib", Path(folder) / "ds", max_functions=functions, generator="tgi", endpoint=url)
        with urllib.request.urlopen(url + "/_stats") as response:
            server_stats = json.loads(response.read())
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    return {"functions": summary.functions + summary.eval_items, "seconds": summary.seconds,
            "requests": server_stats["stats"].get("requests", 0), "busy_share": server_stats["busy_share"],
            "peak_active": server_stats["peak_active"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--max-concurrent", type=int, default=32)
    parser.add_argument("--build-functions", type=int, default=120,
                        help="functions of the build through the stub (C=4, L=0.5 s); 0 to skip it")
    args = parser.parse_args()
    os.environ.setdefault("CASE2CODE_DISABLE_PROGRESS_BARS", "1")
    if args.build_functions:
        r = run_build(args.build_functions, latency=0.5, max_concurrent=4)
        print(f"build through the stub (C=4, L=0.5 s): {r['functions']} functions kept, {r['requests']} requests in "
              f"{r['seconds']:.1f} s; server peak {r['peak_active']}; server busy while it had work: {r['busy_share']:.3f}")
    with tempfile.TemporaryDirectory():
        for p_503 in (0.0, 0.2):
            r = run(args, p_503)
            print(
                f"503s {r['p_503']:.0%}: {r['answered']}/{r['functions']} functions answered in {r['wall_s']:.2f}s, "
                f"{r['achieved_rps']:.1f} req/s over ideal C/L = {r['ideal_rps']:.0f} req/s: ratio {r['ratio']:.3f}; "
                f"429s provoked: {r['server_429']}; 503s injected: {r['server_503']}, client retries: {r['client_retries']}; "
                f"concurrency {r['concurrency']}, server peak {r['peak_active']}; client CPU {r['client_cpu_ms']:.2f} ms/request"
            )


if __name__ == "__main__":
    main()
