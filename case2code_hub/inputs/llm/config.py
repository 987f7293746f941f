"""What the LLM input writer is told: :class:`LLMWriterConfig`, checked when it is made."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ...errors import ConfigError

Generator = Literal["tgi", "openai"]
GrammarMode = Literal["auto", "on", "off"]
GENERATORS: tuple[str, ...] = ("tgi", "openai")
DEFAULT_CONCURRENCY = 16  # when neither the user nor the server says


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
    # Counted from a request's first failure (not its start), so a request that ran into
    # ``request_timeout`` is still retried.
    max_retry_seconds: float = 120.0
    # One folder, or several (read from the first that has an answer, written to all).
    cache_dir: str | list[str] | None = None
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
