"""Requests to a model server behind Text Generation Inference or any OpenAI-style API (vLLM,
SGLang, llama.cpp, OpenAI itself), shared by the LLM input writer and ``case2code eval``.

:class:`EndpointSession` finds out what the server is (TGI's ``/info``, else ``/v1/models``; a
wrong protocol, URL or token is one clear :class:`~case2code_hub.errors.InferenceServerError`),
keeps requests in flight within the server's stated limit (TGI ``/info``, llama.cpp ``/props``)
or adapts to it, and retries what is transient (429, 5xx, timeouts, dropped connections,
malformed bodies) with exponential backoff and jitter, bounded in attempts and in time:
``RequestGaveUp`` past the bounds, ``RequestRejected`` for a 4xx that asking again would not change.
``huggingface_hub.AsyncInferenceClient`` does the HTTP; it retries nothing itself.

Modules: :mod:`.settings` (:class:`EndpointConfig`), :mod:`.endpoint` (:class:`EndpointSession`,
:func:`request_body`), :mod:`.lanes` (request slots, oldest first), :mod:`.client` (HTTP clients,
what the server says about itself, failure types).
"""

from .client import FATAL_STATUSES, LANES_PER_CLIENT, RETRIED_STATUSES, EndpointInfo, RequestGaveUp, RequestRejected
from .endpoint import GRAMMAR_MIN_VERSION, EndpointSession, request_body
from .settings import DEFAULT_CONCURRENCY, GENERATORS, EndpointConfig, Generator

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FATAL_STATUSES",
    "GENERATORS",
    "GRAMMAR_MIN_VERSION",
    "LANES_PER_CLIENT",
    "RETRIED_STATUSES",
    "EndpointConfig",
    "EndpointInfo",
    "EndpointSession",
    "Generator",
    "RequestGaveUp",
    "RequestRejected",
    "request_body",
]
