"""How to reach a model server and sample it: :class:`EndpointConfig`, checked when it is made.

The LLM input writer (:class:`~case2code_hub.inputs.llm.LLMWriterConfig`) and ``case2code eval``'s
completions (:class:`~case2code_hub.evaluate.completions.CompletionConfig`) extend it with what
they ask for; the session, its lanes and its retries read only these fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ..errors import ConfigError

Generator = Literal["tgi", "openai"]
GENERATORS: tuple[str, ...] = ("tgi", "openai")
DEFAULT_CONCURRENCY = 16  # when neither the user nor the server says


@dataclass
class EndpointConfig:
    """Where the server is and how its requests are made.

    Attributes:
        endpoint: the server's base URL.
        generator: its protocol: ``tgi`` (``/generate``, ``/info``) or ``openai``
            (``/v1/chat/completions``, ``/v1/models``).
        model: the model name sent to OpenAI-style servers (default: the one the server names).
        token: bearer token; None takes the usual Hugging Face token (``HF_TOKEN``, ``hf auth login``).
        concurrency: a ceiling of our own on requests in flight; the server's stated limit (divided
            among ``parallel_writers`` processes sharing it) is never exceeded.
        temperature: 0 is greedy. max_new_tokens: per answer. seed: of the first sample (and of
            the retry jitter).
        max_attempts / max_retry_seconds: bounds on one request's retries; the time is counted
            from its first failure, so a request that ran into ``request_timeout`` is still retried.
        backoff_base / backoff_max: the exponential backoff's first and largest delay.
    """

    endpoint: str = "http://127.0.0.1:8080"
    generator: Generator = "tgi"
    model: str | None = None
    token: str | None = field(default=None, repr=False)
    concurrency: int | None = None
    parallel_writers: int = 1
    temperature: float = 0.0
    max_new_tokens: int = 1024
    seed: int = 0
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    request_timeout: float = 300.0
    backoff_base: float = 0.25
    backoff_max: float = 20.0

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or not re.match(r"^https?://[^/\s]+", self.endpoint):
            raise ConfigError(f"endpoint must be an http(s) URL, got {self.endpoint!r}", field="endpoint")
        if self.generator not in GENERATORS:
            raise ConfigError(f"generator must be one of {GENERATORS}, got {self.generator!r}", field="generator")
        for name in ("max_new_tokens", "max_attempts", "parallel_writers"):
            at_least(self, name, 1)
        if self.concurrency is not None:
            at_least(self, "concurrency", 1)
        if not isinstance(self.temperature, (int, float)) or self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature!r}", field="temperature")
        for name in ("max_retry_seconds", "request_timeout", "backoff_base", "backoff_max"):
            if not isinstance(getattr(self, name), (int, float)) or getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}", field=name)


def at_least(config: object, name: str, low: int) -> None:
    """Check that the integer option ``name`` of ``config`` is at least ``low``."""
    value = getattr(config, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}", field=name)
