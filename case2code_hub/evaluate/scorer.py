"""Scoring completions on eval items: extract the code, grade it in the sandbox on every case of
the item (observed and hidden) by :mod:`.grading`'s rule, and aggregate pass@k.

A completion passes when every case matches. The candidate never runs in this process; each
distinct extracted program runs once, however many completions share it. Every candidate is first
run on its item's first case only, and only those that pass it run the rest: a candidate that
hangs on every input costs one call timeout (or one load timeout), not one per case.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import ConfigError, DatasetError, InputFileError
from ..schema import DIFFICULTIES, difficulty_name
from ..utils.files import atomic_open, iter_jsonl, write_jsonl
from ..utils.logging import get_logger, progress
from . import grading
from .compare import FLOAT_ABS_TOL, FLOAT_REL_TOL
from .extract import extract_code
from .grading import EvalConfig, Grade, Program
from .passk import mean_pass_at_k

logger = get_logger(__name__)

SPLITS: tuple[str, ...] = ("test", *DIFFICULTIES)


@dataclass
class EvalReport:
    """Per-item results and the summary of one evaluation.

    Attributes:
        items: one dict per item, ``{"id", "difficulty", "n", "passed", "passed_exact", "results"}``.
        summary: ``{"pass@k", "pass@k_exact", "by_difficulty", "items", ...}``.
        seconds: wall-clock time of the scoring.
    """

    items: list[dict[str, Any]]
    summary: dict[str, Any]
    seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)


# -- inputs ------------------------------------------------------------------------------------


def load_items(dataset: str | os.PathLike, *, split: str = "test", revision: str | None = None) -> list[dict[str, Any]]:
    """The eval config's rows of ``split`` from a dataset folder or a Hub repo.

    Raises:
        ConfigError: an unknown split.
        DatasetError: the folder or repo has no such eval split.
    """
    from datasets import load_dataset

    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {split!r}", field="split")
    try:
        rows = load_dataset(str(dataset), "eval", split=split, revision=revision)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise DatasetError(f"cannot read the eval config of {dataset} (split {split}): {exc}", path=str(dataset)) from None
    items = [dict(row) for row in rows]
    for item in items:  # read back as its ClassLabel code; our rows carry the name
        if item.get("difficulty") is not None:
            item["difficulty"] = difficulty_name(item["difficulty"])
    return items


def load_predictions(path: str | os.PathLike) -> dict[str, list[str]]:
    """Completions per item id from JSONL lines ``{"id", "completions": [...]}`` (or ``"completion"``).

    Raises:
        InputFileError: a line that is not such an object, or an id given twice.
    """
    predictions: dict[str, list[str]] = {}
    for number, row in iter_jsonl(path):
        if not isinstance(row.get("id"), str):
            raise InputFileError(f"{path}:{number}: expected an object with a string 'id'", path=str(path), line=number)
        completions = row.get("completions", [row["completion"]] if "completion" in row else None)
        if not isinstance(completions, list) or not completions or not all(isinstance(c, str) for c in completions):
            raise InputFileError(f"{path}:{number}: 'completions' must be a non-empty list of strings "
                                 "(or 'completion' a string)", path=str(path), line=number)
        if row["id"] in predictions:
            raise InputFileError(f"{path}:{number}: id {row['id']!r} appears twice", path=str(path), line=number)
        predictions[row["id"]] = completions
    return predictions


# -- scoring -----------------------------------------------------------------------------------


def _cases(item: Mapping[str, Any]) -> list[dict[str, str]]:
    return [dict(case) for case in [*item["observed_cases"], *item["hidden_cases"]]]


def _result(grade: Grade | None) -> dict[str, Any]:
    """One completion's entry in an item's ``results``."""
    if grade is None:
        return {"passed": False, "exact": False, "cases_passed": 0, "cases": 0, "failing": None,
                "status": "no_code", "detail": "no function found in the completion"}
    status = "no_cases" if not grade.cases else grade.status
    return {"passed": grade.all_passed, "exact": grade.all_passed and grade.exact == grade.cases,
            "cases_passed": grade.passed, "cases": grade.cases, "failing": grade.failing,
            "status": status, "detail": grade.detail}


@dataclass
class _ItemPlan:
    """An item's completions as programs to grade (``None`` where a completion has no code)."""

    item: Mapping[str, Any]
    programs: list[Program | None]
    extracted: list[str | None]


def _plan(item: Mapping[str, Any], completions: Sequence[str]) -> _ItemPlan:
    cases = _cases(item)
    programs: list[Program | None] = []
    extracted: list[str | None] = []
    for completion in completions:
        found = extract_code(completion, item["entry_point"])
        programs.append(None if found is None else Program(found.code, found.entry_point, tuple(cases)))
        extracted.append(None if found is None else found.where)
    if not cases:  # nothing to grade on: counted, never run
        programs = [None if p is None else Program(p.code, p.entry_point, ()) for p in programs]
    return _ItemPlan(item=item, programs=programs, extracted=extracted)


def score(
    items: Iterable[Mapping[str, Any]],
    predictions: Mapping[str, Sequence[str]],
    *,
    config: EvalConfig | None = None,
) -> EvalReport:
    """Score ``predictions`` on ``items`` in the sandbox.

    Every case of an item (observed and hidden) is graded by :mod:`.grading`'s rule; a completion
    passes when all of them match, and each distinct program runs once.

    Args:
        items: eval rows (``id``, ``entry_point``, ``observed_cases``, ``hidden_cases``,
            ``difficulty``; an optional ``flag`` marks items an import could not reproduce).
        predictions: completions per item id. An item without any gets as many empty
            completions as the most common count among the others, so it scores 0 and is counted
            under ``missing`` in the summary.
        config: scoring options.

    Returns:
        An :class:`EvalReport`.

    Raises:
        SandboxError: the sandbox could not start.
    """
    from ..sandbox import Sandbox

    cfg = config or EvalConfig()
    started = time.monotonic()
    skipped: Counter = Counter()
    chosen = []
    for item in items:
        if item.get("flag") and not cfg.include_flagged:
            skipped["flagged"] += 1
            continue
        chosen.append(item)
    known = {item["id"] for item in chosen}
    extra = sum(1 for key in predictions if key not in known)
    if extra:
        logger.info("%d predictions are for items outside this split; ignored", extra)
    counts = Counter(len(v) for key, v in predictions.items() if key in known)
    default_n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] if counts else 1
    missing = 0
    plans = []
    for item in chosen:
        completions = list(predictions.get(item["id"], ()))
        if not completions:
            missing += 1
            completions = [""] * default_n
        plans.append(_plan(item, completions))

    programs = [p for plan in plans for p in plan.programs if p is not None]
    with Sandbox(cfg.sandbox_config()) as sandbox, progress() as bar:
        task = bar.add_task("Scoring", total=len({p.key() for p in programs}))
        grades = iter(grading.grade_programs(sandbox, programs, stop_at_first_failure=True,
                                             on_graded=lambda: bar.advance(task)))

    rows = []
    for plan in plans:
        results = [{**_result(None if program is None else next(grades)), "extracted": where}
                   for program, where in zip(plan.programs, plan.extracted)]
        item = plan.item
        rows.append({
            "id": item["id"],
            "difficulty": _level(item.get("difficulty")),
            "n": len(results),
            "passed": sum(1 for r in results if r["passed"]),
            "passed_exact": sum(1 for r in results if r["exact"]),
            "results": results,
        })
    summary = summarise(rows, cfg.ks)
    summary["missing"] = missing
    summary["skipped"] = dict(skipped)
    summary["tolerance"] = {"float_rel": FLOAT_REL_TOL, "float_abs": FLOAT_ABS_TOL, "exceptions": "type"}
    seconds = time.monotonic() - started
    logger.info("scored %d items (%d completions, %d distinct programs) in %.1f s",
                len(rows), sum(r["n"] for r in rows), len({p.key() for p in programs}), seconds)
    return EvalReport(items=rows, summary=summary, seconds=seconds, skipped=dict(skipped))


def _level(value: Any) -> str:
    """An item's difficulty name (rows straight from ``load_dataset`` carry the ClassLabel code)."""
    return "unknown" if value is None or value == "" else difficulty_name(value)


def summarise(rows: Sequence[Mapping[str, Any]], ks: Sequence[int]) -> dict[str, Any]:
    """pass@k (tolerant and exact) overall and per difficulty, with item counts."""
    exact_rows = [{"n": r["n"], "passed": r.get("passed_exact", r["passed"])} for r in rows]
    by_difficulty: dict[str, Any] = {}
    levels = [level for level in DIFFICULTIES if any(r["difficulty"] == level for r in rows)]
    levels += sorted({r["difficulty"] for r in rows} - set(DIFFICULTIES))
    for level in levels:
        mine = [r for r in rows if r["difficulty"] == level]
        mine_exact = [e for e, r in zip(exact_rows, rows) if r["difficulty"] == level]
        by_difficulty[level] = {"items": len(mine), "pass@k": mean_pass_at_k(mine, ks),
                                "pass@k_exact": mean_pass_at_k(mine_exact, ks)}
    return {
        "pass@k": mean_pass_at_k(rows, ks),
        "pass@k_exact": mean_pass_at_k(exact_rows, ks),
        "by_difficulty": by_difficulty,
        "items": len(rows),
        "completions": sum(r["n"] for r in rows),
    }


def evaluate(
    dataset: str | os.PathLike,
    predictions: str | os.PathLike | Mapping[str, Sequence[str]],
    *,
    split: str = "test",
    revision: str | None = None,
    config: EvalConfig | None = None,
    output: str | os.PathLike | None = None,
    summary: str | os.PathLike | None = None,
) -> EvalReport:
    """Score predictions on a dataset's eval split and write the result files.

    Args:
        dataset: a dataset folder or a Hub repo id.
        predictions: a predictions JSONL path, or completions per item id.
        split: ``test``, ``easy``, ``medium`` or ``hard``.
        revision: a Hub revision (tag, branch or commit).
        config: scoring options.
        output: where to write one JSON line per item.
        summary: where to write the summary JSON.

    Returns:
        An :class:`EvalReport`.

    Raises:
        ConfigError, DatasetError, InputFileError, SandboxError.
    """
    cfg = config or EvalConfig()
    preds = predictions if isinstance(predictions, Mapping) else load_predictions(predictions)
    items = load_items(dataset, split=split, revision=revision)
    report = score(items, preds, config=cfg)
    report.summary.update(dataset=str(dataset), split=split, revision=revision)
    write_outputs(report, output=output, summary=summary)
    return report


def write_outputs(report: EvalReport, *, output: str | os.PathLike | None = None, summary: str | os.PathLike | None = None) -> None:
    """Write a report's per-item JSONL and summary JSON (either may be ``None``)."""
    if output is not None:
        write_jsonl(Path(output), report.items)
    if summary is not None:
        with atomic_open(summary) as handle:
            json.dump(report.summary, handle, indent=2, sort_keys=True)
            handle.write("\n")
