"""One run of the writer on its event loop (:class:`_WriterSession`): the request per function, the
answer cache, twin de-duplication, the grammar fallback and parsing, over the requests, lanes and
retries of :class:`~case2code_hub.inference.EndpointSession`."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from typing import Any

from ...inference import EndpointInfo, EndpointSession, RequestGaveUp, RequestRejected, request_body
from ...schema import Function
from ...utils.logging import get_logger
from . import prompts
from .answer_cache import ResponseCache, cache_key
from .parse import function_def, parse_answer, static_signature
from .writer_config import LLMWriterConfig

logger = get_logger(__name__)

def _function_seed(seed: int, function_id: str) -> int:
    # TGI's schema wants seed > 0; derived per function so two functions never share a sample path.
    return 1 + int(hashlib.sha256(f"{seed}:{function_id}".encode()).hexdigest()[:12], 16)


#: The chat route's structured-output forms, tried in this order until a server takes one:
#: OpenAI's (OpenAI, vLLM, SGLang, llama.cpp's llama-server), then a JSON object with its schema
#: (llama-cpp-python's server takes only "text" or "json_object").
RESPONSE_FORMS = ("json_schema", "json_object")


def _response_format(schema: dict[str, Any], *, tgi: bool, form: str = "json_schema") -> dict[str, Any]:
    """The chat route's structured-output field: TGI's own form on TGI's Messages API, else ``form``."""
    if tgi:
        return {"type": "json", "value": schema}
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "case2code_inputs", "schema": schema}}


def _rejection_reason(status: int | None, said: str) -> str:
    """A short name for why the server refused a request, to count refusals by."""
    lowered = said.lower()
    # OpenAI / vLLM: "maximum context length"; llama.cpp: "exceeds the available context size";
    # TGI: "`inputs` tokens + `max_new_tokens` must be <= N".
    if ("context" in lowered and any(w in lowered for w in ("length", "too long", "maximum", "exceed", "size"))) or (
            "tokens" in lowered and "must be <=" in lowered):
        return "context_length_exceeded"
    return f"http_{status}" if status else "other"


class _GrammarRefused(Exception):
    """The server rejected the structured-answer constraint: ask again without it (or in another form)."""


def writer_label(info: EndpointInfo | None) -> str:
    """What to record as each case's writer: ``llm:<model id>`` once the server is known."""
    return f"llm:{info.model_id}" if info else "llm"


class _WriterSession(EndpointSession):
    """The writer's part of the event loop: requests for functions, the cache, twins in flight.
    It counts into the ``stats`` it is given (the writer's); after :meth:`open`, ``info`` and
    ``concurrency`` say what the server is and how many requests it takes."""

    def __init__(self, config: LLMWriterConfig, stats: Counter[str]) -> None:
        super().__init__(config, stats)
        self.cache = ResponseCache(self.config.cache_dir) if self.config.cache_dir else None
        self.inflight: dict[str, asyncio.Future] = {}
        self.use_grammar = False
        self.form = 0  # which of RESPONSE_FORMS the chat route sends

    async def open(self) -> None:
        await super().open()
        config, info = self.config, self.info
        # TGI's /generate takes a grammar when /info says it can (or when told to); an OpenAI-style
        # chat route is asked for a JSON-schema answer unless told not to, and falls back to free
        # text the first time the server refuses it.
        if config.generator == "tgi":
            self.use_grammar = config.grammar == "on" or (config.grammar == "auto" and info.grammar)
        else:
            self.use_grammar = config.grammar != "off"
        logger.info(
            "llm writer: %s at %s, model %s, concurrency %d (server limit %s), grammar %s",
            config.generator, config.endpoint, info.model_id, self.concurrency, info.max_concurrent_requests,
            "on" if self.use_grammar else "off",
        )  # fmt: skip

    # --- one function ---------------------------------------------------------------------------

    def _request(self, function: Function, signature) -> tuple[str, dict[str, Any]]:
        """The route and the request body fields that decide the answer (the cache key's payload)."""
        config = self.config
        seed = _function_seed(config.seed, function.id)
        params = list(signature.parameters)
        structured = self.use_grammar
        schema = prompts.grammar_schema(config.n_inputs, signature) if structured else None
        if config.generator == "openai":
            messages = prompts.chat_messages(function, n_inputs=config.n_inputs, params=params, structured=structured)
            route, body = request_body(config, seed, messages=messages)
            if structured:
                body["response_format"] = _response_format(schema, tgi=self.info.protocol == "tgi", form=RESPONSE_FORMS[self.form])
            return route, body
        prompt = prompts.completion_prompt(function, n_inputs=config.n_inputs, params=params, structured=structured)
        route, body = request_body(config, seed, prompt=prompt)
        if structured:
            body["grammar"] = {"type": "json", "value": schema}
        return route, body

    async def write(self, function: Function, order: int = 0) -> tuple[list[str], dict[str, Any]]:
        """The inputs read from the model's answer for ``function``, and the info of the request.

        ``order`` is the function's position in the run: the oldest waiting function gets the next
        free lane (see :mod:`case2code_hub.inference.lanes`).
        """
        info: dict[str, Any] = {
            "writer": writer_label(self.info),
            "model": self.info.model_id if self.info else None,
            "cached": False,
            "finish_reason": None,
            "attempts": 0,
            "tokens_in": 0,
            "tokens_out": 0,
            "dropped": {},
            "error": None,
        }
        node = function_def(function)
        if node is None:
            info["error"] = "no_definition"
            return [], info
        signature = static_signature(node)
        response = await self._answer(function, signature, info, order)
        # Answers arrive in bursts. Parsing is done here, on the loop, but only after one turn of
        # it, so that the request that took over this answer's lane is on the wire first. Parsing
        # on the caller's thread instead made the loop wait for the GIL: a caller parsing a backlog
        # of answers holds it for the whole switch interval (5 ms) at a time.
        await asyncio.sleep(0)
        return self._read(function, response, signature, info), info

    def _read(self, function: Function, response: dict[str, Any] | None, signature, info: dict[str, Any]) -> list[str]:
        """The inputs read from ``response``, counted in ``stats``."""
        if response is None:
            self.stats["failed_functions"] += 1
            return []
        info["finish_reason"] = response.get("finish_reason")
        if response.get("finish_reason") == "length":
            self.stats["truncated"] += 1
        parsed = parse_answer(response.get("text") or "", function, signature=signature)
        info["dropped"] = dict(sorted(parsed.dropped.items()))
        for reason, count in parsed.dropped.items():
            self.stats[f"dropped/{reason}"] += count
        self.stats["inputs"] += len(parsed.inputs)
        return parsed.inputs

    async def _answer(self, function: Function, signature, info: dict[str, Any], order: int) -> dict[str, Any] | None:
        """The model's response for ``function``: from the cache, from a twin in flight, or asked."""
        while True:
            route, body = self._request(function, signature)
            fields = {"prompt_version": prompts.PROMPT_VERSION, "model": self.info.model_id, "route": route, "request": body}
            key = cache_key(fields)
            if self.cache is not None:
                cached = self.cache.get(key)
                if cached is not None:
                    self.stats["cached"] += 1
                    info["cached"] = True
                    return cached
            if key in self.inflight:  # the same prompt asked by a twin function: wait for its answer
                response = await asyncio.shield(self.inflight[key])
                info["cached"] = response is not None
                return response
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            self.inflight[key] = future
            try:
                response = await self._ask(route, body, info, order)
                if response is not None and self.cache is not None:
                    self.cache.put(key, response, fields=fields)
                future.set_result(response)
                return response
            except _GrammarRefused:
                future.set_result(None)
                continue  # asked again, without the grammar
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # a twin may not be waiting: mark it retrieved
                raise
            finally:
                self.inflight.pop(key, None)

    async def _ask(self, route: str, body: dict[str, Any], info: dict[str, Any], order: int) -> dict[str, Any] | None:
        """The server's response, or None (counted, with the reason in ``info``) when it is refused."""
        try:
            response = await self.request(route, body, info, order)
        except RequestRejected as exc:
            said = str(exc).lower()
            refused = (route == "generate" and "grammar" in body and "grammar" in said) or (
                route == "chat" and "response_format" in body and any(w in said for w in ("response_format", "schema", "grammar", "json")))
            if refused:
                # Several forms only on an OpenAI-style chat route; elsewhere the one form is the last.
                forms = route == "chat" and self.info.protocol != "tgi"
                sent = body["response_format"].get("type") if forms else None
                current = not forms or sent == RESPONSE_FORMS[self.form]
                # Only the refusal of what is sent now changes course; requests already in flight
                # with an older form just ask again.
                if self.use_grammar and current and forms and self.form + 1 < len(RESPONSE_FORMS):
                    self.form += 1  # the same schema in another form first
                    logger.info("the server refuses response_format %s; trying %s", sent, RESPONSE_FORMS[self.form])
                elif self.use_grammar and current:
                    logger.warning("the server refuses structured answers (%s); asking in free text from now on",
                                   self.redact(str(exc))[:200])
                    self.use_grammar = False
                    self.stats["grammar_fallbacks"] += 1
                raise _GrammarRefused() from None
            said = self.redact(str(exc))[:300]
            reason = _rejection_reason(exc.status, said)
            self.stats["rejected"] += 1
            self.stats[f"rejected/{reason}"] += 1
            if self.stats[f"rejected/{reason}"] == 1:  # the server's own words, once per reason
                logger.warning("the server refused a request (%s): %s", reason, said)
            info["error"] = f"rejected ({exc.status}): {said}"
            return None
        except RequestGaveUp as exc:
            # Unlike a refusal, worth asking again later: a rerun of the work dir reruns the rank.
            self.stats["unanswered"] += 1
            info["error"] = f"gave up: {self.redact(str(exc))[:300]}"
            return None
        info["tokens_in"], info["tokens_out"] = response["tokens_in"], response["tokens_out"]
        return response

