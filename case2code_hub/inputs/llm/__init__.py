"""Inputs written by an LLM behind Text Generation Inference or any OpenAI-style server.

``LLMInputWriter.write_many`` streams functions through the server at its full capacity through
:class:`case2code_hub.inference.EndpointSession` (discovery, lanes within the server's limit,
retries), asks for answers in the shape of a JSON schema of the function's parameters where the
server takes one, caches every answer on disk so a rerun pays for none twice, and reads the
answers with ``ast`` only (:mod:`.parse`). The token is never logged, cached or put in errors.

Modules: :mod:`.writer_config` (:class:`LLMWriterConfig`), :mod:`.writer` (:class:`LLMInputWriter`,
:func:`llm_writer_summary`), :mod:`.session` (one run on the event loop: prompts, cache, twins in
flight, the structured-answer fallback, parsing), :mod:`.mix` (the model's inputs widened by the
offline writer: :func:`mix_with_mutations`, :class:`LLMWithMutations`, :class:`LLMSeededSearch`),
:mod:`.prompts` (the writer prompt and its schema), :mod:`.parse` (answers to argument lists) and
:mod:`.answer_cache` (answers on disk).
"""

from .writer_config import GrammarMode, LLMWriterConfig
from .mix import LLMSeededSearch, LLMWithMutations, mix_with_mutations
from .writer import LLMInputWriter, llm_writer_summary

__all__ = ["GrammarMode", "LLMInputWriter", "LLMSeededSearch", "LLMWithMutations", "LLMWriterConfig", "llm_writer_summary",
           "mix_with_mutations"]
