"""Requests to a model server on an event loop (:class:`EndpointSession`): what the server is,
how many requests it takes at once, and retries with backoff and jitter within bounds.

Shared by the LLM input writer (:mod:`case2code_hub.inputs.llm.session` adds prompts, the answer
cache and parsing) and by ``case2code eval``'s completions
(:mod:`case2code_hub.evaluate.completions`): "a request body in, the model's text out", never more
requests in flight than the server's ``max_concurrent_requests``. ``AsyncInferenceClient`` itself
retries nothing.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from typing import Any, Awaitable, Callable

import httpx2
from huggingface_hub import get_token
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OverloadedError

from ..errors import InferenceServerError
from ..utils.logging import get_logger
from .client import (
    _RESPONSE_META,
    FATAL_STATUSES,
    LANES_PER_CLIENT,
    RETRIED_STATUSES,
    EndpointInfo,
    RequestGaveUp,
    RequestRejected,
    _EndpointClient,
    _HTTPStatus,
    _http_client,
    _Malformed,
    _seconds,
)
from .lanes import Lanes
from .settings import DEFAULT_CONCURRENCY, EndpointConfig

logger = get_logger(__name__)

GRAMMAR_MIN_VERSION = (1, 4, 3)  # TGI releases that accept ``parameters.grammar``
ADAPTIVE_START = 2  # requests in flight to a server that states no limit, at first
# One more request in flight only pays where the server answers more per second with it: grow
# from c to c + 1 while c gave at least this share of the gain ideal scaling would (c / (c - 1)).
ADAPTIVE_GAIN = 0.5


def _version_tuple(version: str | None) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version or "")[:3]
    return tuple(int(p) for p in parts)


def request_body(config: EndpointConfig, seed: int, *, prompt: str | None = None, messages: list | None = None) -> tuple[str, dict[str, Any]]:
    """The route and body fields of one request, as :meth:`EndpointSession.request` takes them.

    ``config`` gives ``generator``, ``max_new_tokens`` and ``temperature`` (0: greedy, no sampling
    fields); ``openai`` sends ``messages``, ``tgi`` sends ``prompt``.
    """
    sampling = {"temperature": config.temperature} if config.temperature > 0 else {}
    if config.generator == "openai":
        return "chat", {"messages": messages, "max_tokens": config.max_new_tokens, "seed": seed, **sampling}
    return "generate", {"prompt": prompt, "max_new_tokens": config.max_new_tokens, "do_sample": config.temperature > 0,
                        "seed": seed, **sampling}  # fmt: skip


def _fatal_message(endpoint: str, status: int, token: str | None) -> str:
    """A status that ends the run, in words: what it means and what to do."""
    if status == 401:
        hint = "give a token the server accepts (--token, or HF_TOKEN)" if not token else "the token was refused"
        return f"the model server at {endpoint} answered 401 Unauthorized: {hint}"
    if status == 403:
        return f"the model server at {endpoint} answered 403 Forbidden: the token has no access to it"
    return f"the model server at {endpoint} answered {status}: the route does not exist there (wrong URL or --generator?)"


class EndpointSession:
    """One run's requests to the server at ``config.endpoint``, on the running event loop.

    ``config`` is an :class:`~.settings.EndpointConfig` (or a subclass: the writer's, eval's);
    its ``seed`` seeds the retry jitter only. ``stats`` counts ``requests``, ``answered``,
    ``retries``, each transient failure, and tokens.
    """

    def __init__(self, config: EndpointConfig, stats: Counter | None = None) -> None:
        self.config = config
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.rng = random.Random(config.seed)  # backoff jitter only: timing, never content
        self.token = self._resolve_token()
        self.http = None  # for /info and /v1/models
        self.clients: list[_EndpointClient] = []
        self.lanes: Lanes | None = None
        self.info: EndpointInfo | None = None
        self.concurrency: int | None = None
        self.adaptive = False
        self._round_start: float | None = None  # when the current round of answers began
        self._round_answers = 0
        self._throughput: dict[int, float] = {}  # answers per second, the best round at each level
        self._warm = False  # the first round (connections opening) is not measured

    def _resolve_token(self) -> str | None:
        if self.config.token:
            return self.config.token
        return get_token()

    def redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    # --- setting up ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Asks the server what it is (``/info``, else ``/v1/models``) and sizes the lanes to it."""
        config = self.config
        self.http = _http_client(config.request_timeout)
        info = await self._endpoint_info()
        server_limit = info.max_concurrent_requests
        if server_limit:
            server_limit = max(1, server_limit // config.parallel_writers)
        concurrency = min(config.concurrency or server_limit or DEFAULT_CONCURRENCY, server_limit or 1 << 30)
        self.info = info
        self.concurrency = concurrency
        # A server that says nothing of its limit (llama-cpp-python, some OpenAI-style proxies),
        # asked with no --concurrency: start with a few requests in flight and add one while that
        # makes the answers come faster per second; halve on a timeout, 429 or 503. A server that
        # decodes one request at a time then holds two or three, not sixteen in its queue.
        self.adaptive = config.concurrency is None and server_limit is None
        # A slot ("lane") per request in flight, spread over a few HTTP clients: httpcore scans
        # every pooled connection for each request, so small pools cost less CPU per request.
        self.lanes = Lanes(concurrency, allowed=ADAPTIVE_START if self.adaptive else None)
        for _ in range(-(-concurrency // LANES_PER_CLIENT)):
            client = _EndpointClient(
                _http_client(config.request_timeout),
                base_url=config.endpoint.rstrip("/"),
                token=self.token,
                timeout=config.request_timeout,
            )
            self.clients.append(client)

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
                raise InferenceServerError(_fatal_message(self.config.endpoint, response.status_code, self.token),
                                           endpoint=self.config.endpoint, status=response.status_code)
            if response.status_code >= 400:
                raise _HTTPStatus(response.status_code, response.headers.get("retry-after"))
            try:
                return response.json()
            except ValueError:
                raise _Malformed(f"{path} answered a body that is not JSON") from None

        try:
            return await self._with_retries(attempt, count_requests=False)
        except RequestGaveUp as exc:
            raise InferenceServerError(
                f"the model server at {self.config.endpoint} is not reachable: {self.redact(str(exc))}",
                endpoint=self.config.endpoint,
            ) from None
        except RequestRejected:
            return None

    async def _endpoint_info(self) -> EndpointInfo:
        """What the server is: TGI answers ``/info``; an OpenAI-style server (vLLM, SGLang,
        llama.cpp) lists ``/v1/models``. A TGI run against a server that only speaks the
        OpenAI-style API, or a URL where neither answers, stops here with the fix in words."""
        config = self.config
        data = await self._get_json("/info")
        is_tgi = isinstance(data, dict) and isinstance(data.get("model_id"), str)
        if not is_tgi:
            models = await self._get_json("/v1/models")
            if models is None:
                raise InferenceServerError(
                    f"no model server at {config.endpoint}: neither TGI's /info nor the OpenAI-style /v1/models answered "
                    "(check the URL: the server's root, without /v1)", endpoint=config.endpoint)
            if config.generator == "tgi":
                raise InferenceServerError(
                    f"the server at {config.endpoint} speaks the OpenAI-style API (/v1/models), not TGI's "
                    "(/info, /generate): use --generator openai", endpoint=config.endpoint)
        if is_tgi:
            max_concurrent = data.get("max_concurrent_requests")
            version = data.get("version") if isinstance(data.get("version"), str) else None
            router = str(data.get("router") or "")
            grammar = router.startswith("text-generation-router") and _version_tuple(version) >= GRAMMAR_MIN_VERSION
            return EndpointInfo(
                model_id=config.model or data["model_id"],
                max_concurrent_requests=max_concurrent if isinstance(max_concurrent, int) and max_concurrent > 0 else None,
                grammar=grammar,
                version=version,
                protocol="tgi",
            )
        # llama.cpp's server says how many requests it decodes at once (its slots); more in flight
        # only wait in its queue, where they run into our request timeout.
        props = await self._get_json("/props")
        slots = props.get("total_slots") if isinstance(props, dict) else None
        limit = slots if isinstance(slots, int) and not isinstance(slots, bool) and slots > 0 else None
        if config.model:
            return EndpointInfo(model_id=config.model, max_concurrent_requests=limit)
        listed = models.get("data") if isinstance(models, dict) else None
        if isinstance(listed, list) and listed and isinstance(listed[0], dict) and isinstance(listed[0].get("id"), str):
            return EndpointInfo(model_id=listed[0]["id"], max_concurrent_requests=limit)
        # Without a model id the cache still needs a stable name for the model: the endpoint.
        logger.warning("the server at %s names no model; pass --model to key the cache by model", config.endpoint)
        return EndpointInfo(model_id=config.endpoint.rstrip("/"), max_concurrent_requests=limit)

    # --- one request -------------------------------------------------------------------------

    async def request(self, route: str, body: dict[str, Any], info: dict[str, Any] | None = None, order: int = 0) -> dict[str, Any]:
        """The server's answer to one request, retried while the failure is transient.

        Args:
            route: ``generate`` (TGI ``/generate``: ``body`` has ``prompt`` and its parameters) or
                ``chat`` (``/v1/chat/completions``: ``body`` has ``messages`` and options).
            body: the request's fields.
            info: counts ``attempts`` here when given.
            order: the request's place in the run; the oldest waiting request gets the next lane.

        Returns:
            ``{"text", "finish_reason", "tokens_in", "tokens_out"}``.

        Raises:
            RequestRejected: a 4xx that would be answered the same way again.
            RequestGaveUp: transient failures until ``max_attempts`` or ``max_retry_seconds``.
            InferenceServerError: the run cannot go on (401, 403, 404, 405).
        """
        info = info if info is not None else {}
        info.setdefault("attempts", 0)

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

        response = await self._with_retries(attempt, order=order)
        self.stats["answered"] += 1
        for key in ("tokens_in", "tokens_out"):
            response[key] = int(response.get(key) or 0)
            self.stats[key] += response[key]
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
        if "response_format" in body and self.info.protocol != "tgi":
            return await self._chat_as_sent(client, body)
        options = {k: v for k, v in body.items() if k != "messages"}
        out = await client.chat_completion(body["messages"], model=self.info.model_id, **options)
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

    async def _with_retries(self, attempt: Callable[[Any], Awaitable[Any]], *, count_requests: bool = True, order: int = 0):
        """``await attempt(client)`` in a free lane, retrying transient failures with backoff.

        Raises:
            RequestRejected: a 4xx the server will answer again the same way (not retried).
            RequestGaveUp: transient failures until ``max_attempts`` or ``max_retry_seconds``.
            InferenceServerError: a status that means this run cannot go on (401, 403, 404, 405).
        """
        config = self.config
        loop = asyncio.get_running_loop()
        # The retry window opens at the first failure: an attempt that ran into the request
        # timeout (longer than the window) is still retried, never dropped untried.
        first_failure: float | None = None
        tries = 0
        while True:
            tries += 1
            try:
                if not count_requests:
                    return await attempt(None)
                lane = await self.lanes.acquire(order)
                try:
                    self.stats["requests"] += 1
                    answer = await attempt(self.clients[lane % len(self.clients)])
                    self._answered(loop.time())
                    return answer
                finally:
                    self.lanes.release(lane)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # classified below; anything unknown is re-raised
                kind, retry_after = self._classify(exc)
            self.stats[kind] += 1
            if kind in ("timeouts", "http_429", "http_503") and count_requests:
                self._slow_down()
            if first_failure is None:
                first_failure = loop.time()
            reason = f"{kind} after {tries} attempt(s)"
            if tries >= config.max_attempts:
                raise RequestGaveUp(reason)
            delay = min(config.backoff_max, config.backoff_base * 2 ** (tries - 1))
            delay = self.rng.uniform(delay / 2, delay)
            if retry_after is not None:
                delay = max(delay, min(retry_after, config.backoff_max))
            if loop.time() - first_failure + delay > config.max_retry_seconds:
                raise RequestGaveUp(reason + f" within {config.max_retry_seconds:g}s")
            self.stats["retries"] += 1
            logger.debug("retrying in %.2fs: %s", delay, kind)
            await asyncio.sleep(delay)

    async def _chat_as_sent(self, client: _EndpointClient, body: dict[str, Any]) -> dict[str, Any]:
        """A chat request posted as it is. ``AsyncInferenceClient`` rewrites OpenAI's
        ``response_format`` (``json_schema``) into TGI's form, which vLLM and llama.cpp take for
        "any JSON object" and so ignore the schema: an OpenAI-style server gets OpenAI's form."""
        url = self.config.endpoint.rstrip("/") + "/v1/chat/completions"
        response = await client.http.post(url, json={"model": self.info.model_id, **body}, headers=self._headers())
        if response.status_code >= 400:
            detail = self.redact(response.text[:500])
            if "response_format" in detail:
                # A refusal of the field, whatever the status: llama-cpp-python's server answers an
                # unknown response_format type with a 500 that names it. Retrying would not help.
                raise RequestRejected(f"HTTP {response.status_code}: {detail}", response.status_code)
            raise _HTTPStatus(response.status_code, response.headers.get("retry-after"), detail)
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Malformed("chat completion answered without choices[0].message.content") from None
        if not isinstance(text, str):
            raise _Malformed("chat completion answered without message content")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return {"text": text, "finish_reason": choice.get("finish_reason"),
                "tokens_in": int(usage.get("prompt_tokens") or 0), "tokens_out": int(usage.get("completion_tokens") or 0)}

    def _answered(self, now: float) -> None:
        """Adaptive concurrency, probed by throughput: a round is as many answers as requests in
        flight; after a measured round at level ``c``, one more in flight if ``c`` answered at least
        ``1 + ADAPTIVE_GAIN / (c - 1)`` times as many per second as the best round at ``c - 1``
        (the starting level is always probed once). A server that decodes one request at a time
        answers as many per second at any level, so it stays where the probe left it; latency
        alone cannot tell that apart from a warm-up, whose first answers are the slowest."""
        if not self.adaptive:
            return
        if self._round_start is None:
            self._round_start = now
            return
        self._round_answers += 1
        level = self.lanes.allowed
        if self._round_answers < level:
            return
        throughput = self._round_answers / max(now - self._round_start, 1e-6)
        self._round_start, self._round_answers = now, 0
        if not self._warm:
            self._warm = True
            return
        self._throughput[level] = max(throughput, self._throughput.get(level, 0.0))
        below = self._throughput.get(level - 1)
        gained = below is None or throughput >= below * (1 + ADAPTIVE_GAIN / (level - 1))
        if gained and level < self.lanes.count:
            self.lanes.grow()
            self.stats["concurrency_reached"] = max(self.stats["concurrency_reached"], self.lanes.allowed)

    def _slow_down(self) -> None:
        if self.adaptive:
            self.lanes.shrink()
            # The server changed its mind: measure afresh from the level it is back at.
            self._round_start, self._round_answers, self._throughput = None, 0, {}

    def _classify(self, exc: Exception) -> tuple[str, float | None]:
        """The stats key of a transient failure and the server's Retry-After; raises otherwise."""
        if isinstance(exc, (InferenceServerError, RequestRejected)):
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
                    f"{_fatal_message(self.config.endpoint, status, self.token)}: {self.redact(str(exc))[:300]}",
                    endpoint=self.config.endpoint,
                    status=status,
                ) from None
            if status not in RETRIED_STATUSES:
                raise RequestRejected(str(exc), status) from None
            kind = {429: "http_429", 503: "http_503"}.get(status, "http_5xx")
            return kind, _seconds(retry_after)
        if isinstance(exc, (InferenceTimeoutError, asyncio.TimeoutError, httpx2.TimeoutException)):
            return "timeouts", None
        if isinstance(exc, httpx2.TransportError):
            return "connection_errors", None
        if isinstance(exc, (_Malformed, ValueError)):  # json.JSONDecodeError is a ValueError
            return "malformed_responses", None
        raise exc
