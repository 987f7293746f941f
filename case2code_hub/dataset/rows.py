"""Pass 3 of the dataset build: every kept function, in id order, rendered into the rows of each
config and streamed to that split's Parquet writer, counted as the rows go by (the card's figures).

A gradable function (enough cases) whose eval bucket is under its level's threshold becomes an
``eval`` row of that level; every other function is a ``raw`` row, ``samples_per_function``
training samples in each TRL format (``prompted``, ``chat``, ``text``), and, when gradable, an
``rl`` row with the hidden cases its reward grades on.
"""

from __future__ import annotations

import pickle
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .. import schema
from ..utils.logging import progress
from . import difficulty, shards, split, templates

if TYPE_CHECKING:
    from .folder import BuildConfig

LENGTH_COLUMNS = ("prompted: prompt (characters)", "prompted: completion (characters)", "rl: prompt (characters)",
                  "eval: prompt (characters)", "raw: cases per function")


@dataclass
class SplitPlan:
    """What pass 2 decided: difficulty thresholds, the eval share, and per level the eval bucket
    under which a gradable function is held out."""

    cuts: tuple[float, float]
    share: float
    n_eval_expected: int
    eval_below: dict[str, int]
    n_train_expected: int


@dataclass
class RowsWritten:
    """The writers of every split and what went through them."""

    train_out: dict[str, shards.ShardWriter]
    eval_out: dict[str, shards.ShardWriter]
    level_counts: dict[str, Counter] = field(default_factory=lambda: {name: Counter() for name in schema.CONFIGS})
    first_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    lengths: dict[str, array] = field(default_factory=lambda: {name: array("L") for name in LENGTH_COLUMNS})
    coverage: dict[str, array] = field(default_factory=lambda: {"lines": array("d"), "branches": array("d")})
    outcomes: Counter = field(default_factory=Counter)
    raw_fields: list[str] = field(default_factory=lambda: list(schema.features("raw")))
    n_train: int = 0
    n_eval: int = 0
    demoted: int = 0  # eval candidates with too few cases, trained on instead

    def add(self, config: str, out_writer: shards.ShardWriter, row: dict[str, Any]) -> None:
        out_writer.add(row)
        self.first_rows.setdefault(config, row)

    def by_level(self, config: str) -> dict[str, int]:
        return {level: self.level_counts[config].get(level, 0) for level in schema.DIFFICULTIES}

    def close(self) -> tuple[list[Path], dict[str, list[str]], dict[str, dict[str, tuple[int, int]]], Counter]:
        """Finish every split's files: ``(files, splits by config, (rows, Arrow bytes) by config and
        split, download bytes by config)``."""
        files: list[Path] = []
        splits: dict[str, list[str]] = {}
        sizes: dict[str, dict[str, tuple[int, int]]] = {}
        download_sizes: Counter = Counter()
        outputs = [*((config, "train", out) for config, out in self.train_out.items()),
                   *(("eval", level, self.eval_out[level]) for level in schema.DIFFICULTIES)]
        for config, name, out_writer in outputs:
            paths = out_writer.close()
            files += paths
            download_sizes[config] += sum(path.stat().st_size for path in paths)
            # ``datasets`` refuses to load a split without rows: an empty split gets no file and
            # no entry in the card.
            if out_writer.rows:
                splits.setdefault(config, []).append(name)
                sizes.setdefault(config, {})[name] = (out_writer.rows, out_writer.nbytes)
        return files, splits, sizes, download_sizes


def write_rows(kept: Iterable[tuple[str, Any, bytes]], staged: Path, writers: list[shards.ShardWriter],
               plan: SplitPlan, cfg: BuildConfig) -> RowsWritten:
    """Render and write every kept function (``(id, facts, spilled row)`` in id order) into the
    splits under ``staged``; the writers are also appended to ``writers`` (closed by the caller on
    failure)."""

    def writer(config: str, split_name: str) -> shards.ShardWriter:
        return shards.ShardWriter(staged / config, split_name, config, cfg.shard_rows)

    out = RowsWritten(train_out={config: writer(config, "train") for config in ("raw", *schema.TRAINING_CONFIGS, "rl")},
                      eval_out={level: writer("eval", level) for level in schema.DIFFICULTIES})
    writers += [*out.train_out.values(), *out.eval_out.values()]
    with progress() as bar:
        task = bar.add_task("Rendering prompts", total=plan.n_train_expected)
        for function_id, _facts, blob in kept:
            row = pickle.loads(blob)  # spilled by this build (pass 1), never by the sandbox
            level = difficulty.level(row["stats"]["difficulty_score"], plan.cuts)
            row["difficulty"] = level
            if _write_function(out, function_id, row, level, plan, cfg):
                bar.advance(task)
    return out


def _write_function(out: RowsWritten, function_id: str, row: dict[str, Any], level: str, plan: SplitPlan,
                    cfg: BuildConfig) -> bool:
    """One function's rows: an eval item, or training rows. True for a training function."""
    min_eval_cases = cfg.split_config.min_eval_cases
    is_gradable = len(row["cases"]) >= min_eval_cases
    if is_gradable and split.bucket(function_id, seed=cfg.seed) < plan.eval_below[level]:
        out.n_eval += 1
        eval_row = _eval_row(row, cfg)
        out.add("eval", out.eval_out[level], eval_row)
        out.lengths["eval: prompt (characters)"].append(len(eval_row["prompt"]))
        out.level_counts["eval"][level] += 1
        return False
    if not is_gradable and split.is_eval_candidate(function_id, seed=cfg.seed, eval_share=plan.share):
        out.demoted += 1
    out.n_train += 1
    out.add("raw", out.train_out["raw"], {key: row[key] for key in out.raw_fields})
    out.lengths["raw: cases per function"].append(len(row["cases"]))
    for name, stat in (("lines", "line_coverage"), ("branches", "branch_coverage")):
        if row["stats"].get(stat) is not None:
            out.coverage[name].append(row["stats"][stat])
    out.outcomes.update(case["outcome"] for case in row["cases"])
    out.level_counts["raw"][level] += 1
    for sample in templates.render_samples(row, n=cfg.samples_per_function, seed=cfg.seed):
        for config in schema.TRAINING_CONFIGS:
            out.add(config, out.train_out[config], templates.training_row(sample, config))
            out.level_counts[config][level] += 1
        out.lengths["prompted: prompt (characters)"].append(len(sample["prompt"]) + len(templates.PROMPT_END))
        out.lengths["prompted: completion (characters)"].append(len(sample["completion"]))
    # Graded on hidden cases, as eval items are: only functions with enough of them.
    if is_gradable:
        rl_row = _rl_row(row, cfg)
        out.add("rl", out.train_out["rl"], rl_row)
        out.lengths["rl: prompt (characters)"].append(len(rl_row["prompt"][0]["content"]))
        out.level_counts["rl"][level] += 1
    return True


def _observed_hidden(row: Mapping[str, Any], cfg: BuildConfig) -> tuple[list, list]:
    """A function's cases cut into the ones a prompt shows and the ones graded on (seeded by its id)."""
    cases = row["cases"]
    rng = templates.rng_for(cfg.seed, row["id"], "eval")
    most = min(cfg.max_observed, len(cases) - cfg.split_config.min_hidden)
    k = rng.randint(cfg.split_config.min_observed, max(most, cfg.split_config.min_observed))
    return cases[:k], cases[k:]


def _eval_row(row: dict[str, Any], cfg: BuildConfig) -> dict[str, Any]:
    observed, hidden = _observed_hidden(row, cfg)
    return {
        "id": row["id"],
        "entry_point": row["entry_point"],
        "prompt": templates.render_eval_prompt(row["entry_point"], observed),
        "observed_cases": observed,
        "hidden_cases": hidden,
        "reference_code": row["code"],
        "source": row["source"],
        "difficulty": row["difficulty"],
    }


def _rl_row(row: dict[str, Any], cfg: BuildConfig) -> dict[str, Any]:
    """A training function as an RL prompt (TRL's conversational prompt-only format) with the
    hidden cases its reward grades on; no reference code (the reward needs none)."""
    observed, hidden = _observed_hidden(row, cfg)
    prompt = templates.render_eval_prompt(row["entry_point"], observed)
    return {
        "id": row["id"],
        "entry_point": row["entry_point"],
        "prompt": [{"role": "user", "content": prompt}],
        "observed_cases": observed,
        "hidden_cases": hidden,
        "difficulty": row["difficulty"],
    }
