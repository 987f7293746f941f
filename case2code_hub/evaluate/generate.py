"""Completions for eval items from a model behind Text Generation Inference or an OpenAI-style server.

Built on ``huggingface_hub.AsyncInferenceClient`` with our own HTTP client (the user's server is
not the Hub, so ``HF_HUB_OFFLINE`` must not block it). Requests run a few at a time; 429, 5xx,
timeouts and dropped connections are retried with exponential backoff a bounded number of
times. Sample ``j`` of an item uses seed ``seed + j``, so a rerun asks the same questions.
(The LLM input writer's client in :mod:`case2code_hub.inputs.llm` is built around writing inputs
for a function; eval needs only "prompt in, text out", kept here.)
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

from ..errors import ConfigError, InferenceServerError
from ..utils.files import write_jsonl
from ..utils.logging import get_logger, progress

logger = get_logger(__name__)

Generator = Literal["tgi", "openai"]
RETRIED_STATUSES = frozenset({408, 424, 429, 500, 502, 503, 504})


@dataclass
class GenerationConfig:
    """Where the model is and how to sample it.

    Attributes:
        endpoint: the server's base URL. generator: ``tgi`` (``/generate``) or ``openai``
            (``/v1/chat/completions``). model: the model name sent to OpenAI-style servers.
        n: completions per item. temperature: 0 is greedy. max_new_tokens: per completion.
        concurrency: requests in flight. max_attempts: tries per request. seed: of sample 0.
        token: bearer token; ``None`` sends none.
    """

    endpoint: str = "http://127.0.0.1:8080"
    generator: Generator = "tgi"
    model: str | None = None
    n: int = 1
    temperature: float = 0.0
    max_new_tokens: int = 1024
    concurrency: int = 8
    max_attempts: int = 4
    request_timeout: float = 300.0
    seed: int = 1
    backoff: float = 0.25
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or not re.match(r"^https?://[^/\s]+", self.endpoint):
            raise ConfigError(f"endpoint must be an http(s) URL, got {self.endpoint!r}", field="endpoint")
        if self.generator not in ("tgi", "openai"):
            raise ConfigError(f"generator must be 'tgi' or 'openai', got {self.generator!r}", field="generator")
        for name in ("n", "max_new_tokens", "concurrency", "max_attempts"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}", field=name)
        if not isinstance(self.seed, int) or self.seed < 1:
            raise ConfigError(f"seed must be a positive integer (TGI refuses 0), got {self.seed!r}", field="seed")
        if not isinstance(self.temperature, (int, float)) or self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature!r}", field="temperature")
        if self.n > 1 and self.temperature == 0:
            logger.warning("n=%d with temperature 0: greedy decoding gives the same completion every time", self.n)


def _status(exc: BaseException | None) -> int | None:
    # huggingface_hub turns a TGI error body into its own exception, raised from the HTTP error.
    while exc is not None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is not None:
            return status
        exc = exc.__cause__
    return None


def _retryable(exc: BaseException) -> bool:
    import httpx2

    status = _status(exc)
    if status is not None:
        return status in RETRIED_STATUSES
    return isinstance(exc, (asyncio.TimeoutError, httpx2.TransportError, ConnectionError)) or "Timeout" in type(exc).__name__


async def _generate_all(items: list[Mapping[str, Any]], cfg: GenerationConfig, bar, task) -> dict[str, list[str]]:
    import httpx2
    from huggingface_hub import AsyncInferenceClient

    http = httpx2.AsyncClient(timeout=cfg.request_timeout, follow_redirects=True)

    class _EndpointClient(AsyncInferenceClient):
        async def _get_async_client(self):
            return http

    client = _EndpointClient(base_url=cfg.endpoint.rstrip("/"), token=cfg.token, timeout=cfg.request_timeout)
    semaphore = asyncio.Semaphore(cfg.concurrency)
    sampling = {"temperature": cfg.temperature} if cfg.temperature > 0 else {}

    async def once(prompt: str, seed: int) -> str:
        if cfg.generator == "openai":
            answer = await client.chat_completion([{"role": "user", "content": prompt}], model=cfg.model,
                                                  max_tokens=cfg.max_new_tokens, seed=seed, **sampling)
            return answer.choices[0].message.content or ""
        return await client.text_generation(prompt, max_new_tokens=cfg.max_new_tokens, do_sample=cfg.temperature > 0,
                                            seed=seed, **sampling)

    async def one(prompt: str, seed: int) -> str:
        async with semaphore:
            for attempt in range(1, cfg.max_attempts + 1):
                try:
                    return await once(prompt, seed)
                except Exception as exc:  # classified below: retried, or the run cannot go on
                    if not _retryable(exc):
                        raise InferenceServerError(f"{cfg.endpoint} refused a request: {type(exc).__name__}: {exc}"[:300],
                                                   endpoint=cfg.endpoint, status=_status(exc)) from None
                    if attempt == cfg.max_attempts:
                        raise InferenceServerError(f"{cfg.endpoint} failed {attempt} times: {type(exc).__name__}"[:300],
                                                   endpoint=cfg.endpoint, status=_status(exc)) from None
                    await asyncio.sleep(cfg.backoff * 2 ** (attempt - 1))
        raise AssertionError("not reached")

    async def item_completions(item: Mapping[str, Any]) -> list[str]:
        out = await asyncio.gather(*(one(item["prompt"], cfg.seed + j) for j in range(cfg.n)))
        bar.advance(task)
        return list(out)

    try:
        results = await asyncio.gather(*(item_completions(item) for item in items))
    finally:
        await http.aclose()
    return {item["id"]: result for item, result in zip(items, results)}


def generate_completions(
    items: Iterable[Mapping[str, Any]],
    *,
    config: GenerationConfig | None = None,
    out: str | os.PathLike | None = None,
) -> dict[str, list[str]]:
    """``config.n`` completions of each item's ``prompt`` from the server.

    Args:
        items: eval rows (``id``, ``prompt``).
        config: server and sampling options.
        out: also write them as predictions JSONL (``{"id", "completions"}``), for a later rescoring.

    Returns:
        Completions per item id.

    Raises:
        InferenceServerError: the server refused a request or kept failing it.
    """
    cfg = config or GenerationConfig()
    rows = list(items)
    with progress() as bar:
        task = bar.add_task("Generating completions", total=len(rows))
        completions = asyncio.run(_generate_all(rows, cfg, bar, task))
    if out is not None:
        write_jsonl(out, ({"id": key, "completions": value} for key, value in completions.items()))
    logger.info("generated %d completions for %d items from %s", sum(map(len, completions.values())), len(rows), cfg.endpoint)
    return completions
