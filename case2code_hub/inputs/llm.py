"""Inputs written by an LLM behind Text Generation Inference or any OpenAI-style server.

``LLMInputWriter.write_many`` streams functions through the server at its full capacity (never
more requests in flight than its ``/info`` ``max_concurrent_requests``), retries what is
transient (429, 5xx, timeouts, dropped connections, malformed bodies) with exponential backoff
and jitter within bounds, caches every answer on disk so a rerun pays for none twice, and reads
the answers with ``ast`` only (:mod:`.parse`). The token is never logged, cached or put in errors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import hashlib
import json
import random
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Iterable, Iterator, Literal

import httpx2
from huggingface_hub import AsyncInferenceClient, get_token
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OverloadedError

from ..errors import ConfigError, InferenceServerError
from ..schema import Function
from ..utils.logging import get_logger
from . import prompts
from .cache import ResponseCache, cache_key
from .parse import function_def, parse_answer, static_signature

logger = get_logger(__name__)

Generator = Literal["tgi", "openai"]
GrammarMode = Literal["auto", "on", "off"]
GENERATORS: tuple[str, ...] = ("tgi", "openai")
DEFAULT_CONCURRENCY = 16  # when neither the user nor the server says
GRAMMAR_MIN_VERSION = (1, 4, 3)  # TGI releases that accept ``parameters.grammar``
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504, 424})
FATAL_STATUSES = frozenset({401, 403, 404, 405})


@dataclass
class LLMWriterConfig:
    """How to reach the writer model and what to ask it.

    ``concurrency`` is a ceiling of our own; the server's ``max_concurrent_requests`` (divided
    among ``parallel_writers`` processes sharing the server) is never exceeded. ``token`` is None
    to take the usual Hugging Face token (``HF_TOKEN``, ``hf auth login``).
    """

    generator: Generator = "tgi"
    endpoint: str = "http://127.0.0.1:8080"
    model: str | None = None
    token: str | None = field(default=None, repr=False)
    n_inputs: int = 10
    concurrency: int | None = None
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    cache_dir: str | None = None
    temperature: float = 0.2
    max_new_tokens: int = 1024
    seed: int = 0
    grammar: GrammarMode = "auto"
    request_timeout: float = 300.0
    parallel_writers: int = 1
    backoff_base: float = 0.25
    backoff_max: float = 20.0

    def __post_init__(self) -> None:
        if self.generator not in GENERATORS:
            raise ConfigError(f"generator must be one of {GENERATORS}, got {self.generator!r}", field="generator")
        if not isinstance(self.endpoint, str) or not re.match(r"^https?://[^/\s]+", self.endpoint):
            raise ConfigError(f"endpoint must be an http(s) URL, got {self.endpoint!r}", field="endpoint")
        if self.grammar not in ("auto", "on", "off"):
            raise ConfigError(f"grammar must be 'auto', 'on' or 'off', got {self.grammar!r}", field="grammar")
        for name, low in (("n_inputs", 1), ("max_attempts", 1), ("max_new_tokens", 1), ("parallel_writers", 1)):
            if int(getattr(self, name)) < low:
                raise ConfigError(f"{name} must be >= {low}, got {getattr(self, name)}", field=name)
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError(f"concurrency must be >= 1, got {self.concurrency}", field="concurrency")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}", field="seed")
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be in [0, 2], got {self.temperature}", field="temperature")
        for name in ("max_retry_seconds", "request_timeout", "backoff_base", "backoff_max"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}", field=name)

    def to_json(self) -> dict[str, Any]:
        """The options that decide the answers (for a config hash); never the token."""
        keys = ("generator", "model", "n_inputs", "temperature", "max_new_tokens", "seed", "grammar")
        return {k: getattr(self, k) for k in keys}


@dataclass
class EndpointInfo:
    """What the server says about itself (TGI ``/info``, or an OpenAI-style ``/v1/models``)."""

    model_id: str
    max_concurrent_requests: int | None = None
    grammar: bool = False
    version: str | None = None


class _Rejected(Exception):
    """The server refused this one request (4xx validation): retrying would not help."""

    def __init__(self, message: str, status: int | None):
        super().__init__(message)
        self.status = status


class _GaveUp(Exception):
    """Transient failures until the bound on attempts or on time."""


class _Malformed(ValueError):
    """A 200 answer whose body is not what the route promises."""


# Filled by the HTTP response hook of the task that made the request (TGI reports token counts in
# headers, and AsyncInferenceClient does not return headers).
_RESPONSE_META: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("_RESPONSE_META", default=None)


async def _record_response_headers(response) -> None:
    meta = _RESPONSE_META.get()
    if meta is not None:
        for header, key in (("x-prompt-tokens", "tokens_in"), ("x-generated-tokens", "tokens_out")):
            value = response.headers.get(header)
            if value is not None and value.isdigit():
                meta[key] = int(value)


def _version_tuple(version: str | None) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version or "")[:3]
    return tuple(int(p) for p in parts)


def _function_seed(seed: int, function_id: str) -> int:
    # TGI's schema wants seed > 0; derived per function so two functions never share a sample path.
    return 1 + int(hashlib.sha256(f"{seed}:{function_id}".encode()).hexdigest()[:12], 16)


class _LoopThread:
    """An asyncio loop of our own in a daemon thread, so requests progress while the caller works."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="case2code-llm-writer", daemon=True)
        self.thread.start()

    def submit(self, coro: Awaitable[Any]) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def call(self, coro: Awaitable[Any]) -> Any:
        return self.submit(coro).result()

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.call(cancel_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()


class LLMInputWriter:
    """Asks a writer model for inputs; ``LLMInputWriter(config)`` or ``LLMInputWriter(endpoint=...)``.

    ``stats`` counts, over the writer's life: ``requests`` sent, ``answered``, ``cached`` (answers
    read from disk), ``retries``, ``http_429``, ``http_503``, ``http_5xx``, ``timeouts``,
    ``connection_errors``, ``malformed_responses``, ``rejected`` (4xx, not retried),
    ``failed_functions``, ``truncated`` answers, ``tokens_in``, ``tokens_out``, ``inputs`` kept and
    ``dropped/<reason>`` (see :mod:`.parse`).
    """

    name = "llm"

    def __init__(self, config: LLMWriterConfig | None = None, /, **options: Any) -> None:
        try:
            self.config = replace(config or LLMWriterConfig(), **options)
        except TypeError as exc:
            raise ConfigError(f"unknown LLM writer option: {exc}", field=next(iter(options), None)) from None
        self.stats: Counter[str] = Counter()
        self.info: EndpointInfo | None = None
        self.concurrency: int | None = None

    @property
    def writer(self) -> str:
        """What to record as each case's writer: ``llm:<model id>`` once the server is known."""
        return f"llm:{self.info.model_id}" if self.info else "llm"

    def write(self, function: Function) -> list[str]:
        """Inputs for one function (a convenience over ``write_many``)."""
        for _, inputs, _ in self.write_many([function]):
            return inputs
        return []

    def write_many(self, functions: Iterable[Function]) -> Iterator[tuple[Function, list[str], dict[str, Any]]]:
        """Inputs for each function, streamed in input order with bounded requests in flight.

        Args:
            functions: the functions; read lazily, a window of them ahead of what was yielded.

        Yields:
            ``(function, inputs, info)``: ``inputs`` are argument-list sources that round-trip
            through ``literals.parse_arguments`` (empty when the model gave nothing usable or the
            request failed); ``info`` has ``writer``, ``model``, ``cached``, ``finish_reason``,
            ``attempts``, ``tokens_in``, ``tokens_out``, ``dropped`` (by reason) and ``error``.

        Raises:
            InferenceServerError: the server is unreachable, refuses the token, or lacks the route.
        """
        runner = _LoopThread()
        session = _Session(self)
        window: deque[tuple[Function, concurrent.futures.Future]] = deque()
        try:
            runner.call(session.open())
            limit = max(64, 4 * (self.concurrency or 1))
            source = iter(functions)
            exhausted = False
            while True:
                while not exhausted and len(window) < limit:
                    try:
                        function = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    window.append((function, runner.submit(session.write(function))))
                if not window:
                    break
                function, future = window.popleft()
                response, signature, info = future.result()
                yield function, session.finish(function, response, signature, info), info
        finally:
            for _, future in window:
                future.cancel()
            try:
                runner.call(session.close())
            finally:
                runner.stop()
            logger.info("llm writer: %s", _summary_line(self.stats))

    def summary(self) -> dict[str, int]:
        """``stats`` as a plain dict with sorted keys, for a run summary."""
        return {k: int(v) for k, v in sorted(self.stats.items())}


def _summary_line(stats: Counter) -> str:
    keys = ("requests", "answered", "cached", "retries", "http_429", "http_503", "failed_functions", "tokens_in", "tokens_out")
    return ", ".join(f"{k}={stats.get(k, 0)}" for k in keys)


LANES_PER_CLIENT = 8


@functools.lru_cache(maxsize=1)
def _tls_context():
    # One TLS context for every client of the process: loading the CA store costs ~50 ms a time.
    return httpx2.create_ssl_context()


def _http_client(timeout: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        timeout=timeout,
        verify=_tls_context(),
        follow_redirects=True,
        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=LANES_PER_CLIENT * 2),
        event_hooks={"response": [_record_response_headers]},
    )


class _EndpointClient(AsyncInferenceClient):
    """An AsyncInferenceClient on an HTTP client of ours: the user's server is not the Hub, so
    HF_HUB_OFFLINE must not block it, and its pool is sized to the requests we keep in flight."""

    def __init__(self, http: httpx2.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http = http

    async def _get_async_client(self):
        return self.http


class _Session:
    """The part of the writer that lives on the event loop: client, semaphore, in-flight requests."""

    def __init__(self, writer: LLMInputWriter) -> None:
        self.writer = writer
        self.config = writer.config
        self.stats = writer.stats
        self.rng = random.Random(self.config.seed)  # backoff jitter only: timing, never content
        self.cache = ResponseCache(self.config.cache_dir) if self.config.cache_dir else None
        self.token = self._resolve_token()
        self.inflight: dict[str, asyncio.Future] = {}
        self.http = None  # for /info and /v1/models
        self.clients: list[_EndpointClient] = []
        self.lanes: asyncio.Queue[int] | None = None
        self.use_grammar = False

    def _resolve_token(self) -> str | None:
        if self.config.token:
            return self.config.token
        return get_token()

    def redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    # --- setting up ---------------------------------------------------------------------------

    async def open(self) -> None:
        config = self.config
        self.http = _http_client(config.request_timeout)
        info = await self._endpoint_info()
        server_limit = info.max_concurrent_requests
        if server_limit:
            server_limit = max(1, server_limit // config.parallel_writers)
        concurrency = min(config.concurrency or server_limit or DEFAULT_CONCURRENCY, server_limit or 1 << 30)
        self.writer.info = info
        self.writer.concurrency = concurrency
        self.use_grammar = config.generator == "tgi" and (config.grammar == "on" or (config.grammar == "auto" and info.grammar))
        # A slot ("lane") per request in flight, spread over a few HTTP clients: httpcore scans
        # every pooled connection for each request, so small pools cost less CPU per request.
        self.lanes = asyncio.Queue()
        for lane in range(concurrency):
            self.lanes.put_nowait(lane)
        for _ in range(-(-concurrency // LANES_PER_CLIENT)):
            client = _EndpointClient(
                _http_client(config.request_timeout),
                base_url=config.endpoint.rstrip("/"),
                token=self.token,
                timeout=config.request_timeout,
            )
            self.clients.append(client)
        logger.info(
            "llm writer: %s at %s, model %s, concurrency %d (server limit %s), grammar %s",
            config.generator, config.endpoint, info.model_id, concurrency, info.max_concurrent_requests,
            "on" if self.use_grammar else "off",
        )  # fmt: skip

    async def close(self) -> None:
        for http in [self.http] + [c.http for c in self.clients]:
            if http is not None:
                await http.aclose()

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    async def _get_json(self, path: str) -> Any | None:
        """GET ``endpoint + path`` with the retry policy; None on 404 or a body that is not JSON."""
        url = self.config.endpoint.rstrip("/") + path

        async def attempt(_client) -> Any:
            response = await self.http.get(url, headers=self._headers())
            if response.status_code == 404:
                return None
            if response.status_code in FATAL_STATUSES:
                raise InferenceServerError(
                    f"{url} answered {response.status_code}", endpoint=self.config.endpoint, status=response.status_code
                )
            if response.status_code >= 400:
                raise _HTTPStatus(response.status_code, response.headers.get("retry-after"))
            try:
                return response.json()
            except ValueError:
                raise _Malformed(f"{path} answered a body that is not JSON") from None

        try:
            return await self._with_retries(attempt, count_requests=False)
        except _GaveUp as exc:
            raise InferenceServerError(
                f"writer model server at {self.config.endpoint} is not reachable: {self.redact(str(exc))}",
                endpoint=self.config.endpoint,
            ) from None
        except _Rejected:
            return None

    async def _endpoint_info(self) -> EndpointInfo:
        config = self.config
        data = await self._get_json("/info")
        if isinstance(data, dict) and isinstance(data.get("model_id"), str):
            max_concurrent = data.get("max_concurrent_requests")
            version = data.get("version") if isinstance(data.get("version"), str) else None
            router = str(data.get("router") or "")
            grammar = router.startswith("text-generation-router") and _version_tuple(version) >= GRAMMAR_MIN_VERSION
            return EndpointInfo(
                model_id=config.model or data["model_id"],
                max_concurrent_requests=max_concurrent if isinstance(max_concurrent, int) and max_concurrent > 0 else None,
                grammar=grammar,
                version=version,
            )
        if config.model:
            return EndpointInfo(model_id=config.model)
        models = await self._get_json("/v1/models")
        listed = models.get("data") if isinstance(models, dict) else None
        if isinstance(listed, list) and listed and isinstance(listed[0], dict) and isinstance(listed[0].get("id"), str):
            return EndpointInfo(model_id=listed[0]["id"])
        # Without a model id the cache still needs a stable name for the model: the endpoint.
        logger.warning("the server at %s names no model; pass --model to key the cache by model", config.endpoint)
        return EndpointInfo(model_id=config.endpoint.rstrip("/"))

    # --- one function ---------------------------------------------------------------------------

    def _request(self, function: Function, params: list[str]) -> tuple[str, dict[str, Any]]:
        """The route and the request body fields that decide the answer (the cache key's payload)."""
        config = self.config
        seed = _function_seed(config.seed, function.id)
        sampling = {"temperature": config.temperature} if config.temperature > 0 else {}
        if config.generator == "openai":
            messages = prompts.chat_messages(function, n_inputs=config.n_inputs, params=params)
            return "chat", {"messages": messages, "max_tokens": config.max_new_tokens, "seed": seed, **sampling}
        prompt = prompts.completion_prompt(function, n_inputs=config.n_inputs, params=params, structured=self.use_grammar)
        body: dict[str, Any] = {
            "prompt": prompt,
            "max_new_tokens": config.max_new_tokens,
            "do_sample": config.temperature > 0,
            "seed": seed,
            **sampling,
        }
        if self.use_grammar:
            body["grammar"] = {"type": "json", "value": prompts.grammar_schema(config.n_inputs)}
        return "generate", body

    async def write(self, function: Function) -> tuple[dict[str, Any] | None, Any, dict[str, Any]]:
        """The model's response for ``function``, its static signature and the info so far.

        Parsing is left to ``finish``, on the caller's thread: answers arrive in bursts, and
        parsing them here would hold back the next requests.
        """
        info: dict[str, Any] = {
            "writer": self.writer.writer,
            "model": self.writer.info.model_id if self.writer.info else None,
            "cached": False,
            "finish_reason": None,
            "attempts": 0,
            "tokens_in": 0,
            "tokens_out": 0,
            "dropped": {},
            "error": None,
        }
        node = function_def(function)
        if node is None:
            info["error"] = "no_definition"
            return None, None, info
        signature = static_signature(node)
        params = [name for name in signature.parameters]
        return await self._answer(function, params, info), signature, info

    def finish(self, function: Function, response: dict[str, Any] | None, signature, info: dict[str, Any]) -> list[str]:
        """The inputs read from ``response`` (on the caller's thread; only it counts these keys)."""
        if response is None:
            self.stats["failed_functions"] += 1
            return []
        info["finish_reason"] = response.get("finish_reason")
        if response.get("finish_reason") == "length":
            self.stats["truncated"] += 1
        parsed = parse_answer(response.get("text") or "", function, signature=signature)
        info["dropped"] = dict(sorted(parsed.dropped.items()))
        for reason, count in parsed.dropped.items():
            self.stats[f"dropped/{reason}"] += count
        self.stats["inputs"] += len(parsed.inputs)
        return parsed.inputs

    async def _answer(self, function: Function, params: list[str], info: dict[str, Any]) -> dict[str, Any] | None:
        """The model's response for ``function``: from the cache, from a twin in flight, or asked."""
        while True:
            route, body = self._request(function, params)
            fields = {"prompt_version": prompts.PROMPT_VERSION, "model": self.writer.info.model_id, "route": route, "request": body}
            key = cache_key(fields)
            if self.cache is not None:
                cached = self.cache.get(key)
                if cached is not None:
                    self.stats["cached"] += 1
                    info["cached"] = True
                    return cached
            if key in self.inflight:  # the same prompt asked by a twin function: wait for its answer
                response = await asyncio.shield(self.inflight[key])
                info["cached"] = response is not None
                return response
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            self.inflight[key] = future
            try:
                response = await self._ask(route, body, info)
                if response is not None and self.cache is not None:
                    self.cache.put(key, response, fields=fields)
                future.set_result(response)
                return response
            except _GrammarRefused:
                future.set_result(None)
                continue  # asked again, without the grammar
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # a twin may not be waiting: mark it retrieved
                raise
            finally:
                self.inflight.pop(key, None)

    async def _ask(self, route: str, body: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        async def attempt(client: _EndpointClient) -> dict[str, Any]:
            info["attempts"] += 1
            meta: dict[str, Any] = {}
            token = _RESPONSE_META.set(meta)
            try:
                response = await (self._chat(client, body) if route == "chat" else self._generate(client, body))
            finally:
                _RESPONSE_META.reset(token)
            for key in ("tokens_in", "tokens_out"):
                if not response.get(key) and meta.get(key):
                    response[key] = meta[key]
            return response

        try:
            response = await self._with_retries(attempt)
        except _Rejected as exc:
            if route == "generate" and "grammar" in body and "grammar" in str(exc).lower():
                logger.warning("the server refuses grammars (%s); asking in free text from now on", self.redact(str(exc))[:200])
                self.use_grammar = False
                self.stats["grammar_fallbacks"] += 1
                raise _GrammarRefused() from None
            self.stats["rejected"] += 1
            info["error"] = f"rejected ({exc.status}): {self.redact(str(exc))[:300]}"
            return None
        except _GaveUp as exc:
            info["error"] = f"gave up: {self.redact(str(exc))[:300]}"
            return None
        self.stats["answered"] += 1
        self.stats["tokens_in"] += int(response.get("tokens_in") or 0)
        self.stats["tokens_out"] += int(response.get("tokens_out") or 0)
        info["tokens_in"] = int(response.get("tokens_in") or 0)
        info["tokens_out"] = int(response.get("tokens_out") or 0)
        return response

    async def _generate(self, client: _EndpointClient, body: dict[str, Any]) -> dict[str, Any]:
        options = {k: v for k, v in body.items() if k != "prompt"}
        out = await client.text_generation(body["prompt"], details=True, return_full_text=False, **options)
        text = getattr(out, "generated_text", None)
        if not isinstance(text, str):
            raise _Malformed("generate answered without generated_text")
        details = getattr(out, "details", None)
        finish = getattr(details, "finish_reason", None) if details is not None else None
        return {
            "text": text,
            "finish_reason": str(finish) if finish is not None else None,
            "tokens_out": int(getattr(details, "generated_tokens", 0) or 0) if details is not None else 0,
        }

    async def _chat(self, client: _EndpointClient, body: dict[str, Any]) -> dict[str, Any]:
        options = {k: v for k, v in body.items() if k != "messages"}
        out = await client.chat_completion(body["messages"], model=self.writer.info.model_id, **options)
        choices = getattr(out, "choices", None)
        if not choices:
            raise _Malformed("chat completion answered without choices")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str):
            raise _Malformed("chat completion answered without message content")
        usage = getattr(out, "usage", None)
        return {
            "text": text,
            "finish_reason": getattr(choices[0], "finish_reason", None),
            "tokens_in": int(getattr(usage, "prompt_tokens", 0) or 0) if usage is not None else 0,
            "tokens_out": int(getattr(usage, "completion_tokens", 0) or 0) if usage is not None else 0,
        }

    # --- retries -----------------------------------------------------------------------------

    async def _with_retries(self, attempt, *, count_requests: bool = True):
        """``await attempt(client)`` in a free lane, retrying transient failures with backoff.

        Raises:
            _Rejected: a 4xx the server will answer again the same way (not retried).
            _GaveUp: transient failures until ``max_attempts`` or ``max_retry_seconds``.
            InferenceServerError: a status that means this run cannot go on (401, 403, 404, 405).
        """
        config = self.config
        loop = asyncio.get_running_loop()
        started = loop.time()
        tries = 0
        while True:
            tries += 1
            try:
                if not count_requests:
                    return await attempt(None)
                lane = await self.lanes.get()
                try:
                    self.stats["requests"] += 1
                    return await attempt(self.clients[lane % len(self.clients)])
                finally:
                    self.lanes.put_nowait(lane)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # classified below; anything unknown is re-raised
                kind, retry_after = self._classify(exc)
            self.stats[kind] += 1
            reason = f"{kind} after {tries} attempt(s)"
            if tries >= config.max_attempts:
                raise _GaveUp(reason)
            delay = min(config.backoff_max, config.backoff_base * 2 ** (tries - 1))
            delay = self.rng.uniform(delay / 2, delay)
            if retry_after is not None:
                delay = max(delay, min(retry_after, config.backoff_max))
            if loop.time() - started + delay > config.max_retry_seconds:
                raise _GaveUp(reason + f" within {config.max_retry_seconds:g}s")
            self.stats["retries"] += 1
            logger.debug("retrying in %.2fs: %s", delay, kind)
            await asyncio.sleep(delay)

    def _classify(self, exc: Exception) -> tuple[str, float | None]:
        """The stats key of a transient failure and the server's Retry-After; raises otherwise."""
        if isinstance(exc, (InferenceServerError, _Rejected)):
            raise exc
        if isinstance(exc, _HTTPStatus):
            status, retry_after = exc.status, exc.retry_after
        else:
            http_error = exc if isinstance(exc, HfHubHTTPError) else exc.__cause__
            response = getattr(http_error, "response", None) if isinstance(http_error, HfHubHTTPError) else None
            status = getattr(response, "status_code", None)
            retry_after = response.headers.get("retry-after") if response is not None else None
            if status is None and isinstance(exc, OverloadedError):
                status = 429
        if status is not None:
            if status in FATAL_STATUSES:
                raise InferenceServerError(
                    f"the writer model server at {self.config.endpoint} answered {status}: {self.redact(str(exc))[:300]}",
                    endpoint=self.config.endpoint,
                    status=status,
                ) from None
            if status not in RETRIED_STATUSES:
                raise _Rejected(str(exc), status) from None
            kind = {429: "http_429", 503: "http_503"}.get(status, "http_5xx")
            return kind, _seconds(retry_after)
        if isinstance(exc, (InferenceTimeoutError, asyncio.TimeoutError, httpx2.TimeoutException)):
            return "timeouts", None
        if isinstance(exc, httpx2.TransportError):
            return "connection_errors", None
        if isinstance(exc, (_Malformed, ValueError)):  # json.JSONDecodeError is a ValueError
            return "malformed_responses", None
        raise exc


class _HTTPStatus(Exception):
    def __init__(self, status: int, retry_after: str | None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _GrammarRefused(Exception):
    """The server rejected the grammar parameter: ask again in free text."""


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def llm_writer_summary(writer: LLMInputWriter) -> str:
    """One line for a run summary: requests, cache hits, retries, 429s, tokens, dropped inputs."""
    stats = writer.stats
    dropped = {k.split("/", 1)[1]: v for k, v in sorted(stats.items()) if k.startswith("dropped/")}
    return _summary_line(stats) + (f", dropped={json.dumps(dropped, sort_keys=True)}" if dropped else "")


def mix_with_mutations(
    function: Function,
    inputs: list[str],
    *,
    n_mutants: int = 10,
    seed: int = 0,
    writer: str = "llm",
) -> list[tuple[str, str]]:
    """The model's inputs, then type-aware mutants of them by the offline writer (as in EvalPlus).

    Args:
        function: the function the inputs are for (read statically, never run).
        inputs: argument-list sources from the model.
        n_mutants: how many distinct mutants to add at most.
        seed: seeds the mutation; the same arguments give the same mutants.
        writer: the label of the model's inputs; mutants are labelled ``<writer>+mutation``.

    Returns:
        ``(source, writer)`` pairs: every model input first, then the new mutants, all distinct
        and each round-tripping through ``literals.parse_arguments``.
    """
    from .. import literals
    from ..errors import LiteralSyntaxError
    from .analysis import analyse
    from .offline import Candidate, propose

    out = [(source, writer) for source in inputs]
    seen = set(inputs)
    analysis = analyse(function)
    parents = []
    for source in inputs:
        args, kwargs = literals.parse_arguments(source)
        parents.append(Candidate(list(args), dict(kwargs), origin="llm"))
    if analysis.parse_error or not parents or n_mutants <= 0:
        return out
    rng = random.Random(f"{seed}:{function.id}:mutation")  # a str seed: independent of PYTHONHASHSEED
    budget = 30 * n_mutants
    added = 0
    for candidate in propose(analysis, rng, parents=parents):
        budget -= 1
        if budget < 0 or added >= n_mutants:
            break
        if candidate.origin != "mutation":
            continue  # the offline writer's own seeds: not a mutation of the model's inputs
        try:
            source = candidate.source()
            literals.parse_arguments(source)
        except (LiteralSyntaxError, RecursionError, ValueError, MemoryError):
            continue
        if source not in seen and len(source) <= 2_000:
            seen.add(source)
            out.append((source, f"{writer}+mutation"))
            added += 1
    return out
