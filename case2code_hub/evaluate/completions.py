"""Completions for eval items from a model behind Text Generation Inference or an OpenAI-style server.

The requests go through :class:`case2code_hub.inference.EndpointSession`, as the LLM input
writer's do: never more requests in flight than the server takes, and 429, 5xx, timeouts and
dropped connections retried with exponential backoff and jitter, bounded in attempts and in time.
Sample ``j`` of an item uses seed ``seed + j``, so a rerun asks the same questions.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InferenceServerError
from ..inference import EndpointConfig, EndpointSession, RequestGaveUp, RequestRejected, request_body
from ..inference.settings import at_least
from ..utils.files import write_jsonl
from ..utils.logging import get_logger, progress

logger = get_logger(__name__)


@dataclass
class CompletionConfig(EndpointConfig):
    """Where the model is and how to sample it (see :class:`~case2code_hub.inference.EndpointConfig`):
    ``n`` completions per item, greedy by default (``temperature`` 0), sample ``j`` with seed
    ``seed + j`` (TGI refuses seed 0, so ``seed`` starts at 1)."""

    seed: int = 1
    n: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, "n", 1)
        at_least(self, "seed", 1)
        if self.n > 1 and self.temperature == 0:
            logger.warning("n=%d with temperature 0: greedy decoding gives the same completion every time", self.n)


async def _generate_all(items: list[Mapping[str, Any]], cfg: CompletionConfig, stats: Counter, bar, task,
                        on_item) -> dict[str, str]:
    """Ask for every item's completions; ``on_item(id, completions)`` as each item's arrive. An item
    whose request was refused or kept failing is left out (its reason returned); a failure that
    ends the run (401, wrong route) is raised."""
    session = EndpointSession(cfg, stats)
    await session.open()
    failed: dict[str, str] = {}

    async def one(prompt: str, seed: int, order: int) -> str:
        route, body = request_body(cfg, seed, prompt=prompt, messages=[{"role": "user", "content": prompt}])
        return (await session.request(route, body, order=order))["text"]

    async def item_completions(index: int, item: Mapping[str, Any]) -> None:
        try:
            out = await asyncio.gather(*(one(item["prompt"], cfg.seed + j, index * cfg.n + j) for j in range(cfg.n)))
        except RequestRejected as exc:
            failed[item["id"]] = f"refused ({exc.status}): {session.redact(str(exc))}"[:300]
        except RequestGaveUp as exc:
            failed[item["id"]] = f"kept failing: {exc}"[:300]
        else:
            on_item(item["id"], list(out))
        bar.advance(task)

    try:
        await asyncio.gather(*(item_completions(i, item) for i, item in enumerate(items)))
    finally:
        await session.close()
    return failed


def _answered(path: Path, n: int) -> dict[str, list[str]]:
    """Completions an earlier run kept in ``path`` (items with all ``n`` of them)."""
    import json

    done: dict[str, list[str]] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # the last line of a run killed while writing it
            continue
        if isinstance(row, dict) and isinstance(row.get("id"), str) and isinstance(row.get("completions"), list) \
                and len(row["completions"]) == n and all(isinstance(c, str) for c in row["completions"]):
            done[row["id"]] = row["completions"]
    return done


def completions_file(items: list[Mapping[str, Any]], cfg: CompletionConfig) -> Path | None:
    """Where completions are kept when no file is named: the user's cache, under a digest of what
    decides them (model, sampling, the items' prompts), so the same command resumes; None when
    caching is off."""
    import hashlib
    import json

    from ..utils.cache import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    decided = {"model": cfg.model, "endpoint_model": cfg.model or cfg.endpoint, "generator": cfg.generator, "n": cfg.n,
               "temperature": cfg.temperature, "max_new_tokens": cfg.max_new_tokens, "seed": cfg.seed,
               "prompts": hashlib.sha256("\0".join(f"{i['id']}\0{i['prompt']}" for i in items).encode()).hexdigest()}
    key = hashlib.sha256(json.dumps(decided, sort_keys=True).encode()).hexdigest()[:24]
    return folder / "eval-completions" / f"{key}.jsonl"


def generate_completions(
    items: Iterable[Mapping[str, Any]],
    *,
    config: CompletionConfig | None = None,
    out: str | os.PathLike | None = None,
) -> dict[str, list[str]]:
    """``config.n`` completions of each item's ``prompt`` from the server.

    Every item's completions are appended to a file as they arrive (``out``, else a file in the
    user's cache named by what decides them), so an interrupted or partly failed run loses none,
    and a rerun asks only for the items still missing. When all are in, the file is rewritten in
    item order.

    Args:
        items: eval rows (``id``, ``prompt``).
        config: server and sampling options.
        out: the predictions JSONL (``{"id", "completions"}``), for a later rescoring or a resume.

    Returns:
        Completions per item id.

    Raises:
        InferenceServerError: the server refused the run (401, wrong route), or some items got no
            completion (the others are kept in the file: run again to ask for the rest).
    """
    import json

    cfg = config or CompletionConfig()
    rows = list(items)
    path = Path(out) if out is not None else completions_file(rows, cfg)
    done = _answered(path, cfg.n) if path is not None else {}
    todo = [row for row in rows if row["id"] not in done]
    if done:
        logger.info("resuming: %d of %d items already have their completions in %s", len(rows) - len(todo), len(rows), path)
    stats: Counter[str] = Counter()
    handle = None
    if path is not None and todo:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a", encoding="utf-8")

    def keep(item_id: str, completions: list[str]) -> None:
        done[item_id] = completions
        if handle is not None:
            handle.write(json.dumps({"id": item_id, "completions": completions}, ensure_ascii=False) + "\n")
            handle.flush()

    try:
        with progress() as bar:
            task = bar.add_task("Generating completions", total=len(todo))
            failed = asyncio.run(_generate_all(todo, cfg, stats, bar, task, keep)) if todo else {}
    finally:
        if handle is not None:
            handle.close()
    if failed:
        reason = next(iter(failed.values()))
        kept = f"; the {len(done)} answered are kept in {path}: run again to ask only for the rest" if path else ""
        raise InferenceServerError(f"{len(failed)} of {len(rows)} items got no completion from {cfg.endpoint} "
                                   f"(first: {reason}){kept}", endpoint=cfg.endpoint)
    completions = {row["id"]: done[row["id"]] for row in rows}
    if path is not None:
        write_jsonl(path, ({"id": key, "completions": value} for key, value in completions.items()))
    logger.info("generated %d completions for %d items from %s (requests %d, retries %d, tokens in %d, out %d)",
                sum(map(len, completions.values())), len(rows), cfg.endpoint, stats["requests"], stats["retries"],
                stats["tokens_in"], stats["tokens_out"])
    return completions
