"""Inputs written by an LLM behind Text Generation Inference or any OpenAI-style server.

``LLMInputWriter.write_many`` streams functions through the server at its full capacity (never
more requests in flight than its ``/info`` ``max_concurrent_requests``), retries what is
transient (429, 5xx, timeouts, dropped connections, malformed bodies) with exponential backoff
and jitter within bounds, caches every answer on disk so a rerun pays for none twice, and reads
the answers with ``ast`` only (:mod:`.parse`). The token is never logged, cached or put in errors.

Modules: :mod:`.config` (:class:`LLMWriterConfig`), :mod:`.writer` (:class:`LLMInputWriter`,
:func:`llm_writer_summary`), :mod:`.session` (one run on the event loop: prompts, cache,
parsing), :mod:`.endpoint` (:class:`EndpointSession`: server discovery, requests and retries, also
used by ``case2code eval``), :mod:`.lanes` (request slots, oldest first), :mod:`.client` (HTTP
clients and failure types), :mod:`.mix` (the model's inputs widened by the offline writer:
:func:`mix_with_mutations`, :class:`LLMWithMutations`, :class:`LLMSeededSearch`), :mod:`.prompts` (the
writer prompt and grammar), :mod:`.parse` (answers to argument lists) and :mod:`.cache` (answers
on disk).
"""

from .client import FATAL_STATUSES, LANES_PER_CLIENT, RETRIED_STATUSES, EndpointInfo
from .config import DEFAULT_CONCURRENCY, GENERATORS, Generator, GrammarMode, LLMWriterConfig
from .mix import LLMSeededSearch, LLMWithMutations, mix_with_mutations
from .endpoint import GRAMMAR_MIN_VERSION, EndpointSession
from .writer import LLMInputWriter, llm_writer_summary

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FATAL_STATUSES",
    "GENERATORS",
    "GRAMMAR_MIN_VERSION",
    "LANES_PER_CLIENT",
    "RETRIED_STATUSES",
    "EndpointInfo",
    "EndpointSession",
    "Generator",
    "GrammarMode",
    "LLMInputWriter",
    "LLMSeededSearch",
    "LLMWithMutations",
    "LLMWriterConfig",
    "llm_writer_summary",
    "mix_with_mutations",
]
