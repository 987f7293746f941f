"""Completions for eval items from a model behind Text Generation Inference or an OpenAI-style server.

The requests go through the LLM input writer's :class:`~case2code_hub.inputs.llm.EndpointSession`:
``AsyncInferenceClient`` on our own HTTP clients, never more requests in flight than the server's
``/info`` ``max_concurrent_requests`` (or ``concurrency``), and 429, 5xx, timeouts and dropped
connections retried with exponential backoff and jitter, bounded in attempts and in time. Sample
``j`` of an item uses seed ``seed + j``, so a rerun asks the same questions.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

from ..errors import ConfigError, InferenceServerError
from ..utils.files import write_jsonl
from ..utils.logging import get_logger, progress

logger = get_logger(__name__)

Generator = Literal["tgi", "openai"]


@dataclass
class GenerationConfig:
    """Where the model is and how to sample it.

    Attributes:
        endpoint: the server's base URL. generator: ``tgi`` (``/generate``) or ``openai``
            (``/v1/chat/completions``). model: the model name sent to OpenAI-style servers
            (default: what the server names).
        n: completions per item. temperature: 0 is greedy. max_new_tokens: per completion.
        concurrency: most requests in flight (default: the server's ``max_concurrent_requests``).
        max_attempts / max_retry_seconds: bounds on the retries of one request.
        backoff_base / backoff_max: the exponential backoff's first and largest delay.
        seed: of sample 0. token: bearer token; None takes the usual Hugging Face token.
    """

    endpoint: str = "http://127.0.0.1:8080"
    generator: Generator = "tgi"
    model: str | None = None
    n: int = 1
    temperature: float = 0.0
    max_new_tokens: int = 1024
    concurrency: int | None = None
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    request_timeout: float = 300.0
    seed: int = 1
    backoff_base: float = 0.25
    backoff_max: float = 20.0
    token: str | None = field(default=None, repr=False)
    parallel_writers: int = 1  # processes sharing the server's limit (eval runs in one)

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or not re.match(r"^https?://[^/\s]+", self.endpoint):
            raise ConfigError(f"endpoint must be an http(s) URL, got {self.endpoint!r}", field="endpoint")
        if self.generator not in ("tgi", "openai"):
            raise ConfigError(f"generator must be 'tgi' or 'openai', got {self.generator!r}", field="generator")
        for name in ("n", "max_new_tokens", "max_attempts"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}", field=name)
        if self.concurrency is not None and (not isinstance(self.concurrency, int) or self.concurrency < 1):
            raise ConfigError(f"concurrency must be a positive integer, got {self.concurrency!r}", field="concurrency")
        if not isinstance(self.seed, int) or self.seed < 1:
            raise ConfigError(f"seed must be a positive integer (TGI refuses 0), got {self.seed!r}", field="seed")
        if not isinstance(self.temperature, (int, float)) or self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature!r}", field="temperature")
        for name in ("max_retry_seconds", "request_timeout", "backoff_base", "backoff_max"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}", field=name)
        if self.n > 1 and self.temperature == 0:
            logger.warning("n=%d with temperature 0: greedy decoding gives the same completion every time", self.n)


async def _generate_all(items: list[Mapping[str, Any]], cfg: GenerationConfig, stats: Counter, bar, task) -> dict[str, list[str]]:
    from ..inputs.llm import EndpointSession
    from ..inputs.llm.client import _GaveUp, _Rejected
    from ..inputs.llm.endpoint import request_body

    session = EndpointSession(cfg, stats)
    await session.open()

    async def one(prompt: str, seed: int, order: int) -> str:
        route, body = request_body(cfg, seed, prompt=prompt, messages=[{"role": "user", "content": prompt}])
        try:
            return (await session.request(route, body, order=order))["text"]
        except _Rejected as exc:
            raise InferenceServerError(f"{cfg.endpoint} refused a request ({exc.status}): {session.redact(str(exc))}"[:300],
                                       endpoint=cfg.endpoint, status=exc.status) from None
        except _GaveUp as exc:
            raise InferenceServerError(f"{cfg.endpoint} kept failing: {exc}"[:300], endpoint=cfg.endpoint) from None

    async def item_completions(index: int, item: Mapping[str, Any]) -> list[str]:
        out = await asyncio.gather(*(one(item["prompt"], cfg.seed + j, index * cfg.n + j) for j in range(cfg.n)))
        bar.advance(task)
        return list(out)

    try:
        results = await asyncio.gather(*(item_completions(i, item) for i, item in enumerate(items)))
    finally:
        await session.close()
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
    stats: Counter[str] = Counter()
    with progress() as bar:
        task = bar.add_task("Generating completions", total=len(rows))
        completions = asyncio.run(_generate_all(rows, cfg, stats, bar, task))
    if out is not None:
        write_jsonl(out, ({"id": key, "completions": value} for key, value in completions.items()))
    logger.info("generated %d completions for %d items from %s (requests %d, retries %d, tokens in %d, out %d)",
                sum(map(len, completions.values())), len(rows), cfg.endpoint, stats["requests"], stats["retries"],
                stats["tokens_in"], stats["tokens_out"])
    return completions
