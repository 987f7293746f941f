"""Talking HTTP to a model server: the pooled ``AsyncInferenceClient``, what the server says about
itself, and the failures the retry policy of :class:`~.endpoint.EndpointSession` tells apart.

The one place that reaches into ``huggingface_hub``'s privates: :class:`_EndpointClient` overrides
``AsyncInferenceClient._get_async_client`` to hand it our pooled HTTP client (the user's server is
not the Hub: ``HF_HUB_OFFLINE`` must not block it, and the pool is sized to our lanes). A
``huggingface_hub`` release that renames it fails every protocol test at once."""

from __future__ import annotations

import contextvars
import functools
from dataclasses import dataclass
from typing import Any

import httpx2
from huggingface_hub import AsyncInferenceClient

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504, 424})
FATAL_STATUSES = frozenset({401, 403, 404, 405})


@dataclass
class EndpointInfo:
    """What the server says about itself (TGI ``/info``, or an OpenAI-style ``/v1/models``)."""

    model_id: str
    max_concurrent_requests: int | None = None
    grammar: bool = False
    version: str | None = None
    # The server's own protocol: "tgi" (it answers /info) or "openai" (only /v1/models).
    protocol: str = "openai"


class RequestRejected(Exception):
    """The server refused this one request (4xx validation): retrying would not help."""

    def __init__(self, message: str, status: int | None):
        super().__init__(message)
        self.status = status


class RequestGaveUp(Exception):
    """Transient failures (timeouts, 429, 5xx, dropped connections) until the bound on attempts or on time."""


class _Malformed(ValueError):
    """A 200 answer whose body is not what the route promises."""


# Filled by the HTTP response hook of the task that made the request (TGI reports token counts in
# headers, and AsyncInferenceClient does not return headers).
_RESPONSE_META: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("_RESPONSE_META", default=None)


async def _record_response_headers(response) -> None:
    meta = _RESPONSE_META.get()
    if meta is not None:
        for header, key in (("x-prompt-tokens", "tokens_in"), ("x-generated-tokens", "tokens_out")):
            value = response.headers.get(header)
            if value is not None and value.isdigit():
                meta[key] = int(value)


LANES_PER_CLIENT = 8


@functools.lru_cache(maxsize=1)
def _tls_context():
    # One TLS context for every client of the process: loading the CA store costs ~50 ms a time.
    return httpx2.create_ssl_context()


def _http_client(timeout: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        timeout=timeout,
        verify=_tls_context(),
        follow_redirects=True,
        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=LANES_PER_CLIENT * 2),
        event_hooks={"response": [_record_response_headers]},
    )


class _EndpointClient(AsyncInferenceClient):
    """An AsyncInferenceClient on an HTTP client of ours: the user's server is not the Hub, so
    HF_HUB_OFFLINE must not block it, and its pool is sized to the requests we keep in flight."""

    def __init__(self, http: httpx2.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http = http

    async def _get_async_client(self):
        return self.http


class _HTTPStatus(Exception):
    """A non-2xx answer to a plain GET (``/info``, ``/v1/models``), retried like a client error."""

    def __init__(self, status: int, retry_after: str | None, detail: str = ""):
        super().__init__(f"HTTP {status}" + (f": {detail}" if detail else ""))
        self.status = status
        self.retry_after = retry_after


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
