"""One run of the writer on its event loop (:class:`_Session`): server discovery, the request per
function, the answer cache and twin de-duplication, and retries with backoff and jitter."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from typing import TYPE_CHECKING, Any

import httpx2
from huggingface_hub import get_token
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OverloadedError

from ...errors import InferenceServerError
from ...schema import Function
from ...utils.logging import get_logger
from .. import prompts
from ..cache import ResponseCache, cache_key
from ..parse import function_def, parse_answer, static_signature
from .client import (
    _RESPONSE_META,
    FATAL_STATUSES,
    LANES_PER_CLIENT,
    RETRIED_STATUSES,
    EndpointInfo,
    _EndpointClient,
    _GaveUp,
    _GrammarRefused,
    _HTTPStatus,
    _http_client,
    _Malformed,
    _Rejected,
    _seconds,
)
from .config import DEFAULT_CONCURRENCY
from .lanes import Lanes

if TYPE_CHECKING:
    from .writer import LLMInputWriter

logger = get_logger(__name__)

GRAMMAR_MIN_VERSION = (1, 4, 3)  # TGI releases that accept ``parameters.grammar``


def _version_tuple(version: str | None) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version or "")[:3]
    return tuple(int(p) for p in parts)


def _function_seed(seed: int, function_id: str) -> int:
    # TGI's schema wants seed > 0; derived per function so two functions never share a sample path.
    return 1 + int(hashlib.sha256(f"{seed}:{function_id}".encode()).hexdigest()[:12], 16)


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
        self.lanes: Lanes | None = None
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
        self.lanes = Lanes(concurrency)
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

    async def write(self, function: Function, order: int = 0) -> tuple[list[str], dict[str, Any]]:
        """The inputs read from the model's answer for ``function``, and the info of the request.

        ``order`` is the function's position in the run: the oldest waiting function gets the next
        free lane (see :mod:`.lanes`).
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
            return [], info
        signature = static_signature(node)
        params = [name for name in signature.parameters]
        response = await self._answer(function, params, info, order)
        # Answers arrive in bursts. Parsing is done here, on the loop, but only after one turn of
        # it, so that the request that took over this answer's lane is on the wire first. Parsing
        # on the caller's thread instead made the loop wait for the GIL: a caller parsing a backlog
        # of answers holds it for the whole switch interval (5 ms) at a time.
        await asyncio.sleep(0)
        return self._read(function, response, signature, info), info

    def _read(self, function: Function, response: dict[str, Any] | None, signature, info: dict[str, Any]) -> list[str]:
        """The inputs read from ``response``, counted in ``stats``."""
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

    async def _answer(self, function: Function, params: list[str], info: dict[str, Any], order: int) -> dict[str, Any] | None:
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
                response = await self._ask(route, body, info, order)
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

    async def _ask(self, route: str, body: dict[str, Any], info: dict[str, Any], order: int) -> dict[str, Any] | None:
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
            response = await self._with_retries(attempt, order=order)
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

    async def _with_retries(self, attempt, *, count_requests: bool = True, order: int = 0):
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
                lane = await self.lanes.acquire(order)
                try:
                    self.stats["requests"] += 1
                    return await attempt(self.clients[lane % len(self.clients)])
                finally:
                    self.lanes.release(lane)
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
