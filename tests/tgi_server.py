"""A Text Generation Inference look-alike on 127.0.0.1, for the LLM writer's tests and benchmark.

It follows TGI's OpenAPI contract (``shared/contracts/tgi-openapi.json``): ``POST /``,
``/generate``, ``/v1/chat/completions``, ``GET /info``, ``/health``, ``/v1/models``, error bodies
``{"error", "error_type"}``; 429 ``overloaded`` past ``max_concurrent``. Faults can be injected:
503s, slow answers, dropped connections, malformed JSON, truncated generations, prose around
the code, non-literal entries, 422s. Its answers are what a writer model would plausibly say
about the function in the prompt: it parses the signature out of the prompt and writes
``dict(a=...)`` lines. Every request and response body is checked against the contract and
violations are kept in ``schema_errors``. ``GET /_stats`` (not TGI) returns its counters.

Run alone: ``python tests/tgi_server.py --latency 0.2 --max-concurrent 32 --p-503 0.2``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The writer parses on its own thread too: CPython 3.11's AST constructor must not run in two at once.
from case2code_hub.utils.syntax import parse_ast

MODEL_ID = "fake-org/fake-writer-1b"
FAULTS = ("ok", "503", "drop", "malformed", "truncated", "chatty", "slow", "validation", "hostile")


# ---------------------------------------------------------------------------------------------
# The contract and a validator for the subset of OpenAPI it uses


def contract_path() -> Path | None:
    """Where the TGI OpenAPI contract is: $CASE2CODE_CONTRACTS, or ``shared/`` beside or in the repo."""
    here = Path(__file__).resolve().parent
    candidates = [os.environ.get("CASE2CODE_CONTRACTS", ""), here.parent / "shared/contracts", here.parent.parent / "shared/contracts"]
    for folder in candidates:
        if folder and (Path(folder) / "tgi-openapi.json").is_file():
            return Path(folder) / "tgi-openapi.json"
    return None


def load_contract() -> dict[str, Any] | None:
    path = contract_path()
    return json.loads(path.read_text()) if path else None


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any], where: str = "$") -> list[str]:
    """Errors of ``instance`` against an OpenAPI 3 ``schema`` (``$ref``, ``allOf``, ``oneOf``,
    ``type``, ``nullable``, ``required``, ``properties``, ``items``, ``enum``, ``minimum``,
    ``maximum``, ``exclusiveMinimum``, ``maxItems``): the subset TGI's contract uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return validate(instance, root["components"]["schemas"][name], root, where)
    errors: list[str] = []
    if instance is None and schema.get("nullable"):
        return []
    for sub in schema.get("allOf", []):
        errors += validate(instance, sub, root, where)
    if "oneOf" in schema:
        matches = [sub for sub in schema["oneOf"] if not validate(instance, sub, root, where)]
        if len(matches) != 1:
            errors.append(f"{where}: matches {len(matches)} of oneOf, not exactly one")
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    if kind in checks and not checks[kind](instance):
        return errors + [f"{where}: expected {kind}, got {type(instance).__name__}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} not in {schema['enum']}")
    if kind in ("integer", "number"):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{where}: {instance} < minimum {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{where}: {instance} > maximum {schema['maximum']}")
        low = schema.get("exclusiveMinimum")
        if isinstance(low, (int, float)) and not isinstance(low, bool) and instance <= low:
            errors.append(f"{where}: {instance} <= exclusiveMinimum {low}")
    if kind == "object" or (kind is None and isinstance(instance, dict)):
        for name in schema.get("required", []):
            if name not in instance:
                errors.append(f"{where}: missing required {name!r}")
        for name, sub in schema.get("properties", {}).items():
            if name in instance:
                errors += validate(instance[name], sub, root, f"{where}.{name}")
    if kind == "array":
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            errors.append(f"{where}: more than {schema['maxItems']} items")
        for i, item in enumerate(instance):
            errors += validate(item, schema.get("items", {}), root, f"{where}[{i}]")
    return errors


def _route_schemas(contract: dict[str, Any], method: str, path: str, status: int) -> tuple[dict | None, dict | None]:
    operation = contract["paths"].get(path, {}).get(method.lower(), {})
    request = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    response = operation.get("responses", {}).get(str(status), {}).get("content", {}).get("application/json", {}).get("schema")
    if response is None and status >= 400:
        response = {"$ref": "#/components/schemas/ErrorResponse"}
    return request, response


# ---------------------------------------------------------------------------------------------
# Plausible writer answers for the function in the prompt

_INTS = [0, 1, -3, 42, 7, 100, -1, 2, 13, 5, 999, 3]
_FLOATS = [0.0, 1.5, -2.25, 3.14159, 1e-06, 100.0, -0.5, 2.0]
_STRS = ["", "a", "hello", "Hello World", "abc123", " ", "racecar", "a,b,c", "\u00e9t\u00e9", "xyz", "The quick fox", "42"]
_LISTS = [[], [1], [3, 1, 2], [0, 0, 0], [-5, 10, 7, 2], [1, 2, 3, 4, 5], [10], [2, 2, 1], [9, -9], [4, 3, 2, 1]]


def _value(name: str, annotation: str, index: int) -> str:
    hint = (annotation or name).lower()
    if "bool" in hint or name.startswith(("is_", "has_", "flag")):
        return repr(index % 2 == 0)
    if "float" in hint or name in ("x", "y", "rate", "ratio", "value"):
        return repr(_FLOATS[index % len(_FLOATS)])
    if "dict" in hint or "map" in hint:
        return repr({"k": index, "other": -index} if index % 3 else {})
    if "str" in hint or name in ("s", "text", "name", "word", "string", "sep", "prefix", "line"):
        return repr(_STRS[index % len(_STRS)])
    if "list" in hint or "seq" in hint or name.endswith("s") or name in ("lst", "arr", "data"):
        return repr(_LISTS[index % len(_LISTS)])
    return repr(_INTS[index % len(_INTS)])


def writer_answer(prompt: str, *, structured: bool = False, fault: str = "ok") -> str:
    """What a writer model would answer to the prompt: analysis, then ``dict(...)`` entries."""
    name_match = re.search(r"function `([A-Za-z_][A-Za-z0-9_]*)`", prompt)
    code_match = re.search(r"```python\n(.*?)```", prompt, re.DOTALL)
    count_match = re.search(r"Write (\d+) different", prompt)
    entry_point = name_match.group(1) if name_match else "f"
    n = int(count_match.group(1)) if count_match else 10
    params: list[tuple[str, str]] = []
    try:
        tree = parse_ast(code_match.group(1) if code_match else "")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
                args = node.args.posonlyargs + node.args.args
                required = len(args) - len(node.args.defaults)
                params = [(a.arg, ast.unparse(a.annotation) if a.annotation else "") for a in args[:required]]
    except SyntaxError:
        pass
    entries = []
    for i in range(n):
        entries.append("dict(" + ", ".join(f"{p}={_value(p, a, i + k)}" for k, (p, a) in enumerate(params)) + ")")
    if fault == "hostile":
        first = params[0][0] if params else "x"
        entries[0] = f"dict({first}=__import__('os').system('touch /tmp/case2code-pwned'))"
        entries.append(f"dict({first}=open('/etc/passwd').read())")
    analysis = f"`{entry_point}` takes " + (", ".join(p for p, _ in params) or "no arguments") + "; the inputs cover edge cases."
    if structured:  # the schema's form: each input maps argument names to the source of a value
        objects = [{p: _value(p, a, i + k) for k, (p, a) in enumerate(params)} for i in range(n)]
        return json.dumps({"analysis": analysis, "inputs": objects})
    if fault == "chatty":
        lines = "\n".join(f"{i + 1}. {e}  -- covers case {i + 1}" for i, e in enumerate(entries))
        return f"Sure! Happy to help.\n{analysis}\nHere are {n} inputs such as [1, 2]:\n{lines}\nLet me know if you need more!"
    return analysis + "\n\n```python\n" + "\n".join(entries) + "\n```\n"


# ---------------------------------------------------------------------------------------------
# The server


@dataclass
class Faults:
    """Chances of each fault per request (decided by a hash of the prompt and how often it was
    seen, so a rerun meets the same faults); ``script`` forces faults in arrival order first."""

    p_503: float = 0.0
    p_drop: float = 0.0
    p_malformed: float = 0.0
    p_truncated: float = 0.0
    p_chatty: float = 0.0
    p_slow: float = 0.0
    p_validation: float = 0.0
    p_hostile: float = 0.0
    slow_seconds: float = 5.0
    script: list[str] = field(default_factory=list)


class FakeTGI:
    """The server. ``with FakeTGI(latency=0.2, max_concurrent=32) as server: server.url``."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        max_concurrent: int = 32,
        faults: Faults | None = None,
        model_id: str = MODEL_ID,
        grammar_support: bool = True,
        openai_only: bool = False,
        slots: int | None = None,
        response_forms: tuple[str, ...] = ("json_schema", "json_object"),
        serial: bool = False,
        hold_after: int | None = None,
        require_token: str | None = None,
        port: int = 0,
        seed: int = 0,
        check_schema: bool = True,
    ) -> None:
        self.latency = latency
        self.max_concurrent = max_concurrent
        self.faults = faults or Faults()
        self.model_id = model_id
        self.grammar_support = grammar_support
        self.openai_only = openai_only
        self.slots = slots  # llama.cpp's GET /props total_slots (OpenAI-only mode)
        # The response_format types an OpenAI-only server takes (llama-cpp-python's: json_object only).
        self.response_forms = response_forms
        # llama-cpp-python's server: requests queue for one decoder instead of being refused.
        self.serial = serial
        self.decoder = threading.Lock()
        self.hold_after = hold_after
        self.require_token = require_token  # like an auth proxy in front of TGI: 401 without it
        self.seed = seed
        self.contract = load_contract() if check_schema else None
        self.stats: Counter[str] = Counter()
        self.received: Counter[str] = Counter()  # prompt key -> requests received
        self.answered: Counter[str] = Counter()  # prompt key -> answers sent
        self.authorizations: set[str] = set()
        self.schema_errors: list[str] = []
        self.response_formats: list[dict] = []  # OpenAI-style structured-output requests received
        self.active = 0
        self.admitted = 0
        self.peak_active = 0
        # Seconds of requests in flight, summed (the integral of ``active``), from the first request
        # to the last one's end: how busy the clients kept the server (``busy_share``).
        self.active_seconds = 0.0
        self.first_active: float | None = None
        self.last_change: float | None = None
        self.lock = threading.Lock()
        self.released = threading.Event()
        self._seen: Counter[str] = Counter()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeTGI":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        """Let held requests go: each is abandoned (connection closed, never answered)."""
        self.hold_after = None
        self.released.set()

    def __enter__(self) -> "FakeTGI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def account(self) -> None:
        """Add the requests in flight since the last change to ``active_seconds`` (lock held)."""
        now = time.monotonic()
        if self.first_active is None:
            self.first_active = now
        if self.last_change is not None:
            self.active_seconds += self.active * (now - self.last_change)
        self.last_change = now

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            span = (self.last_change - self.first_active) if self.first_active is not None else 0.0
            return {
                "stats": dict(self.stats),
                "peak_active": self.peak_active,
                "busy_share": self.active_seconds / (self.max_concurrent * span) if span > 0 else 0.0,
                "schema_errors": list(self.schema_errors),
                "answered_twice": sorted(k for k, v in self.answered.items() if v > 1),
                "answered_keys": len(self.answered),
            }

    def decide(self, key: str) -> str:
        with self.lock:
            if self.faults.script:
                return self.faults.script.pop(0)
            seen = self._seen[key]
            self._seen[key] += 1
        digest = hashlib.sha256(f"{self.seed}:{key}:{seen}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        f = self.faults
        for kind, p in (
            ("503", f.p_503), ("drop", f.p_drop), ("malformed", f.p_malformed), ("truncated", f.p_truncated),
            ("chatty", f.p_chatty), ("slow", f.p_slow), ("validation", f.p_validation), ("hostile", f.p_hostile),
        ):  # fmt: skip
            if u < p:
                return kind
            u -= p
        return "ok"

    def count(self, key: str) -> None:
        with self.lock:
            self.stats[key] += 1

    def check(self, what: str, body: Any, schema: dict | None) -> list[str]:
        if self.contract is None or schema is None:
            return []
        errors = [f"{what}: {e}" for e in validate(body, schema, self.contract)]
        if errors:
            with self.lock:
                self.schema_errors.extend(errors)
        return errors


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default 5 resets connections when 32 clients connect at once
    owner: FakeTGI

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout, killed) breaks the pipe: expected, counted. Anything
        # else is a bug of this server, counted apart so that tests can assert there is none.
        kind = sys.exc_info()[0]
        expected = kind is not None and issubclass(kind, (BrokenPipeError, ConnectionResetError))
        self.owner.count("client_gone" if expected else f"handler_error/{getattr(kind, '__name__', kind)}")
        if not expected:
            super().handle_error(request, client_address)


def _handler(server: FakeTGI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args) -> None:  # quiet: tests read counters, not logs
            pass

        # --- plumbing ---

        def _send(self, status: int, body: Any, *, raw: bytes | None = None, headers: dict[str, str] | None = None) -> None:
            if raw is None:
                _, schema = _route_schemas(server.contract, self.command, self.path, status) if server.contract else (None, None)
                server.check(f"response {self.command} {self.path} {status}", body, schema)
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, error_type: str) -> None:
            self._send(status, {"error": message, "error_type": error_type})

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        # --- routes ---

        def do_GET(self) -> None:
            server.count(f"GET {self.path}")
            if self.path == "/health":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/info" and not server.openai_only:
                self._send(200, {
                    "model_id": server.model_id, "model_sha": None, "model_pipeline_tag": "text-generation",
                    "max_concurrent_requests": server.max_concurrent, "max_best_of": 2, "max_stop_sequences": 4,
                    "max_input_tokens": 4096, "max_total_tokens": 8192, "validation_workers": 2,
                    "max_client_batch_size": 4, "router": "text-generation-router", "version": "3.3.6-dev0",
                    "sha": None, "docker_label": None,
                })  # fmt: skip
            elif self.path == "/v1/models":
                if server.openai_only:  # vLLM / llama.cpp style listing
                    body = {"object": "list", "data": [{"id": server.model_id, "object": "model", "created": 0, "owned_by": "me"}]}
                    self._send(200, body, raw=json.dumps(body).encode())
                else:
                    self._send(200, {"id": server.model_id, "object": "model", "created": 0, "owned_by": "fake"})
            elif self.path == "/props" and server.openai_only and server.slots:
                body = {"total_slots": server.slots, "default_generation_settings": {"n_ctx": 4096}}
                self._send(200, body, raw=json.dumps(body).encode())
            elif self.path == "/_stats":
                self._send(200, server.snapshot(), raw=json.dumps(server.snapshot()).encode())
            else:
                self._send(404, {"error": "not found", "error_type": "not_found"}, raw=b'{"error":"not found","error_type":"not_found"}')

        def do_POST(self) -> None:
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            route = self.path
            if server.require_token and self.headers.get("Authorization") != f"Bearer {server.require_token}":
                server.count("401")
                self._send(401, None, raw=b'{"error":"Unauthorized","error_type":"authentication"}')
                return
            if route not in ("/", "/generate", "/v1/chat/completions") or (server.openai_only and route != "/v1/chat/completions"):
                self._send(404, None, raw=b'{"error":"not found","error_type":"not_found"}')
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(422, "request body is not JSON", "validation")
                return
            if server.openai_only and isinstance(body.get("response_format"), dict):
                # vLLM / llama.cpp / OpenAI take {"type": "json_schema", "json_schema": {"schema": ...}},
                # which TGI's contract does not describe: checked here, then left out of its check.
                form = body.pop("response_format")
                with server.lock:
                    server.response_formats.append(form)
                kind = form.get("type")
                schema_given = (form.get("json_schema") or {}).get("schema") if kind == "json_schema" else form.get("schema")
                if kind not in server.response_forms or not isinstance(schema_given, dict):
                    # As llama-cpp-python's server does: a validation error naming the field, as a 500.
                    self._error(500, f"1 validation error: body.response_format.type: input should be one of "
                                     f"{server.response_forms}, got {kind!r}", "validation")
                    return
                body["response_format"] = {"type": "json", "value": schema_given}
            schema, _ = _route_schemas(server.contract, "POST", route, 200) if server.contract else (None, None)
            problems = server.check(f"request POST {route}", body, schema)
            if problems:
                self._error(422, "; ".join(problems)[:500], "validation")
                return
            prompt = body["messages"][-1]["content"] if route == "/v1/chat/completions" else body["inputs"]
            parameters = body.get("parameters") or {}
            structured = bool(parameters.get("grammar")) or bool(body.get("response_format"))
            if structured and not server.grammar_support:
                self._error(422, "Grammar and tools are not supported by this model", "validation")
                return
            key = hashlib.sha256(prompt.encode()).hexdigest()[:16]
            with server.lock:
                server.stats["requests"] += 1
                server.received[key] += 1
                if self.headers.get("Authorization"):
                    server.authorizations.add(self.headers["Authorization"])
                if server.active >= server.max_concurrent:
                    server.stats["429"] += 1
                    overloaded = True
                else:
                    overloaded = False
                    server.account()
                    server.active += 1
                    server.peak_active = max(server.peak_active, server.active)
            if overloaded:
                self._error(429, "Model is overloaded", "overloaded")
                return
            active = True
            try:
                with server.lock:  # admit exactly hold_after requests to an answer, hold the rest
                    hold = server.hold_after is not None and server.admitted >= server.hold_after
                    server.admitted += 0 if hold else 1
                if hold:
                    server.count("held")
                    server.released.wait()
                    server.count("abandoned")
                    self._drop()
                    return
                fault = server.decide(key)
                server.count(f"fault/{fault}")
                if fault == "503":
                    self._error(503, "Model is loading", "unavailable")
                    return
                if fault == "validation":
                    self._error(422, "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192", "validation")
                    return
                # The answer is written first and the sleep takes what is left of the latency: a
                # request is answered L seconds after it arrived, as a server that generates for L
                # seconds would, whatever this Python server spends on parsing and writing.
                text = writer_answer(prompt, structured=structured, fault=fault)
                service = server.faults.slow_seconds if fault == "slow" else server.latency
                if server.serial:  # one decoder: a request waits for the ones before it, then takes L
                    with server.decoder:
                        time.sleep(service)
                else:
                    time.sleep(max(0.0, arrived + service - time.monotonic()))
                if fault == "drop":
                    self._drop()
                    return
                finish = "eos_token"
                if fault == "truncated":
                    text, finish = text[: int(len(text) * 0.6)], "length"
                tokens_in, tokens_out = max(1, len(prompt) // 4), max(1, len(text) // 4)
                with server.lock:  # TGI frees the permit when generation ends, before the reply is sent
                    server.account()
                    server.active -= 1
                    active = False
                    server.answered[key] += 1
                    server.stats["answered"] += 1
                headers = {"x-prompt-tokens": str(tokens_in), "x-generated-tokens": str(tokens_out)}
                if fault == "malformed":
                    self._send(200, None, raw=b'{"generated_text": "dict(a=1', headers=headers)
                    return
                if route == "/v1/chat/completions":
                    response = {
                        "id": "", "created": int(time.time()), "model": server.model_id, "system_fingerprint": "3.3.6-dev0",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop" if finish == "eos_token" else "length", "logprobs": None}],
                        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
                    }  # fmt: skip
                else:
                    generated = {"generated_text": text}
                    if parameters.get("details"):
                        generated["details"] = {"finish_reason": finish, "generated_tokens": tokens_out, "prefill": [], "tokens": [], "seed": parameters.get("seed")}
                    response = [generated] if route == "/" else generated
                self._send(200, response, headers=headers)
            finally:
                if active:
                    with server.lock:
                        server.account()
                    server.active -= 1

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--max-concurrent", type=int, default=32)
    parser.add_argument("--p-503", type=float, default=0.0)
    parser.add_argument("--no-schema", action="store_true", help="skip contract checks (for benchmarks)")
    args = parser.parse_args(argv)
    server = FakeTGI(
        latency=args.latency, max_concurrent=args.max_concurrent, faults=Faults(p_503=args.p_503),
        port=args.port, check_schema=not args.no_schema,
    )  # fmt: skip
    server.start()
    sys.stdout.write(f"READY {server.url}\n")
    sys.stdout.flush()
    try:
        sys.stdin.read()  # serve until the parent closes our stdin
    finally:
        server.stop()


if __name__ == "__main__":
    main()
