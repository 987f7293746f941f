"""What the LLM input writer is told: :class:`LLMWriterConfig`, checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ...errors import ConfigError
from ...inference.settings import DEFAULT_CONCURRENCY, GENERATORS, EndpointConfig, Generator, at_least

GrammarMode = Literal["auto", "on", "off"]

__all__ = ["DEFAULT_CONCURRENCY", "GENERATORS", "Generator", "GrammarMode", "LLMWriterConfig"]


@dataclass
class LLMWriterConfig(EndpointConfig):
    """How to reach the writer model (see :class:`~case2code_hub.inference.EndpointConfig`) and
    what to ask it: ``n_inputs`` per function, answers constrained by a ``grammar`` where the server
    takes one, and kept in ``cache_dir`` (one folder, or several: read from the first that has an
    answer, written to all)."""

    temperature: float = 0.2
    n_inputs: int = 10
    cache_dir: str | list[str] | None = None
    grammar: GrammarMode = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.grammar not in ("auto", "on", "off"):
            raise ConfigError(f"grammar must be 'auto', 'on' or 'off', got {self.grammar!r}", field="grammar")
        at_least(self, "n_inputs", 1)
        at_least(self, "seed", 0)  # each function's seed is derived from it, and TGI's must be > 0
        if self.temperature > 2:
            raise ConfigError(f"temperature must be in [0, 2], got {self.temperature}", field="temperature")

    def to_json(self) -> dict[str, Any]:
        """The options that decide the answers (for a config hash); never the token."""
        keys = ("generator", "model", "n_inputs", "temperature", "max_new_tokens", "seed", "grammar")
        return {k: getattr(self, k) for k in keys}
