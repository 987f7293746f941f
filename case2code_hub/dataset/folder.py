"""Assemble the dataset folder: functions with cases in, one Parquet folder per config (``schema.CONFIGS``) and
a README.md card out, written so that stock ``datasets.load_dataset(folder, config)`` reads it.

The folder is written beside ``out_dir`` and swapped in at the end: a failed build leaves the
previous one untouched, and a folder that is not a previous build is never replaced.

The build streams, so its memory does not grow with the corpus: pass 1 normalises and scores each
record and spills it to sorted runs on disk (an external sort by ``(id, input index)``, in the
staging folder); pass 2 merges them in id order, drops duplicates and keeps a few numbers per
function (difficulty score, eval bucket, quality columns) for the thresholds, the eval share and
the quality summary; pass 3 merges again, renders every row and writes each split one row group
at a time; the card, which needs the final counts, is written last. The output is byte for byte
what holding everything in memory gave.

Pass 2 is :func:`_fold`, the split's decisions :func:`_plan_split`; pass 3 lives in :mod:`.rows`.
The other parts live beside it too: :mod:`.shards` writes the Parquet shards; :mod:`.staging`
checks the target, swaps the staged folder in and cleans up on SIGTERM (its names are re-exported
here).
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import shutil
import tempfile
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .. import literals, schema
from ..errors import ConfigError, DatasetError
from ..quality import QualityTally
from ..utils.logging import get_logger
from . import card as card_mod
from . import difficulty, shards, split, templates
from .external import SortedRuns
from .plots import PLOTS_DIR, build_plots, plots_section
from .rows import RowsWritten, SplitPlan, write_rows
from .staging import _cleanup_on_sigterm, _Terminated, check_target, swap_into_place  # noqa: F401

logger = get_logger(__name__)

# Bytes of spilled function rows held in memory before a sorted run goes to disk (the build's
# memory is this plus one row group per split, whatever the corpus size).
_RUN_BYTES = 32 << 20


@dataclass
class BuildConfig:
    """Options of :func:`build_dataset` (see there)."""

    seed: int = 0
    eval_share: float = 0.05
    samples_per_function: int = 3
    max_observed: int = 5
    shard_rows: int = 50_000
    pretty_name: str = "Case2Code"
    min_eval_items: int = 50
    max_eval_share: float = 0.15

    def __post_init__(self) -> None:
        if not 1 <= self.samples_per_function <= len(templates.CASE_FORMATS):
            raise ConfigError(
                f"samples_per_function must be between 1 and {len(templates.CASE_FORMATS)}, "
                f"got {self.samples_per_function}",
                field="samples_per_function",
            )
        if not split.SplitConfig().min_observed <= self.max_observed <= templates.MAX_SHOWN:
            raise ConfigError(
                f"max_observed must be between 3 and {templates.MAX_SHOWN}, got {self.max_observed}",
                field="max_observed",
            )
        if self.shard_rows < 1:
            raise ConfigError(f"shard_rows must be positive, got {self.shard_rows}", field="shard_rows")
        if self.min_eval_items < 0:
            raise ConfigError(f"min_eval_items must be >= 0, got {self.min_eval_items}", field="min_eval_items")
        if not 0.0 <= self.max_eval_share <= 1.0:
            raise ConfigError(f"max_eval_share must be between 0 and 1, got {self.max_eval_share}", field="max_eval_share")
        # Validates eval_share and names the field.
        self.split_config = split.SplitConfig(seed=self.seed, eval_share=self.eval_share)


@dataclass
class BuildReport:
    """What a build wrote.

    Attributes:
        out_dir: the dataset folder.
        n_input: records received.
        n_train / n_eval: functions in raw (and prompted) / in eval.
        eval_demoted: functions drawn for eval that had too few cases and went to train.
        dropped: records or cases the builder dropped, by reason.
        thresholds: difficulty cut points ``(easy below, hard from)``.
        counts: rows per config, split and difficulty.
        files: data files and card, relative to ``out_dir``.
        cases: cases of all functions kept, train and eval.
    """

    out_dir: Path
    n_input: int
    n_train: int
    n_eval: int
    eval_demoted: int
    thresholds: tuple[float, float]
    counts: dict[str, dict[str, dict[str, int]]]
    dropped: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    cases: int = 0
    quality: dict[str, Any] = field(default_factory=dict)

    def _rows(self, config: str) -> int:
        return sum(sum(levels.values()) for levels in self.counts.get(config, {}).values() if levels)

    @property
    def raw_rows(self) -> int:
        return self._rows("raw")

    @property
    def prompted_rows(self) -> int:
        return self._rows("prompted")

    @property
    def eval_rows(self) -> int:
        return sum(self.counts.get("eval", {}).get("test", {}).values())

    @property
    def by_difficulty(self) -> dict[str, int]:
        """Functions per difficulty level, train and eval together."""
        raw, held_out = self.counts["raw"]["train"], self.counts["eval"]["test"]
        return {level: raw.get(level, 0) + held_out.get(level, 0) for level in schema.DIFFICULTIES}


def _case(case: Any, default_writer: str) -> dict[str, str]:
    if not isinstance(case, Mapping):
        case = schema.Case.to_dict(case)
    return {
        "input": case["input"],
        "output": case["output"],
        "outcome": case["outcome"],
        "writer": case.get("writer") or default_writer,
    }


def _normalise(record: Mapping[str, Any], index: int, dropped: Counter) -> dict[str, Any] | None:
    missing = [key for key in ("id", "entry_point", "code", "cases") if key not in record]
    if missing:
        raise DatasetError(f"record {index} lacks {', '.join(missing)}: not a function record")
    generator = record.get("generator") or "offline"
    cases = []
    for case in record["cases"]:
        case = _case(case, generator)
        if case["outcome"] in schema.KEPT_OUTCOMES:
            cases.append(case)
        else:
            dropped[f"case outcome {case['outcome']}"] += 1
    if not cases:
        dropped["no cases"] += 1
        return None
    source = dict(record.get("source") or {})
    return {
        "id": str(record["id"]),
        "entry_point": record["entry_point"],
        "code": record["code"],
        "cases": cases,
        "source": {key: source.get(key) for key in ("corpus", "path", "repo", "license")},
        "generator": generator,
        "quality": dict(record.get("quality") or {}),
    }


def _coverage_stats(quality: Mapping[str, Any]) -> dict[str, float | None]:
    """The raw config's coverage stats from a record's ``quality`` (None where not measured)."""
    measured = bool(quality) and quality.get("measured", True)
    return {key: (round(float(quality[key]), 4) if measured and key in quality else None)
            for key in ("line_coverage", "branch_coverage")}


def _quality(tally: QualityTally, summary: Mapping[str, Any], dropped: Mapping[str, int]) -> dict[str, Any]:
    """The build's quality summary: kept functions' measured quality, yield and drop reasons.

    ``harvest/kept`` and ``dropped/<reason>`` come from the pipeline's counters in ``summary``
    (absent when records were handed in directly); the builder's own drops are added. ``tally``
    holds the kept functions' quality (what :func:`quality.summarise` would get, folded).
    """
    harvested = summary.get("harvest/kept")
    reasons = {key.split("/", 1)[1]: int(value) for key, value in summary.items()
               if isinstance(key, str) and key.startswith("dropped/") and isinstance(value, int)}
    reasons.update({f"build: {reason}": int(count) for reason, count in dropped.items()})
    return tally.summary(harvested=int(harvested) if isinstance(harvested, int) else None, dropped=reasons)


def _writer_phrase(provenance: Mapping[str, Any]) -> str:
    writer = provenance.get("writer")
    if writer in ("tgi", "openai"):
        return f"a language model ({provenance.get('model') or 'served over ' + writer}) and extended by a coverage-guided search"
    if writer == "offline":
        return "a program (no language model): a coverage-guided search over the function's code, annotations and call sites"
    return "the pipeline that produced the records"


def _corpus_phrase(provenance: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    corpus = provenance.get("corpus") or summary.get("corpus")
    if corpus == "stdlib":
        return "the Python standard library"
    return f"the corpus `{corpus}`" if corpus else "the input records"


def build_dataset(
    records: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    eval_share: float = 0.05,
    samples_per_function: int = 3,
    summary: Mapping[str, Any] | None = None,
    max_observed: int = 5,
    shard_rows: int = 50_000,
    pretty_name: str = "Case2Code",
    min_eval_items: int = 50,
    max_eval_share: float = 0.15,
    provenance: Mapping[str, Any] | None = None,
) -> BuildReport:
    """Build the dataset folder from functions with their cases.

    Args:
        records: dicts ``{"id", "entry_point", "code", "source": {corpus, path, repo, license},
            "cases": [{"input", "output", "outcome", "writer"}], "generator"}``; cases whose outcome
            is not ``returned`` / ``raised`` are dropped and counted.
        out_dir: the dataset folder; replaced only if it is empty or a previous case2code build.
        seed: fixes the split, the prompts and the eval observed/hidden cut.
        eval_share: fraction of function ids drawn for eval (see :mod:`.split`).
        samples_per_function: prompted samples per train function, each a distinct template.
        summary: pipeline facts for the card (corpus, writer, counts, drop reasons). Keep wall
            clock times out of it if byte-identical rebuilds matter.
        max_observed: most cases an eval prompt shows (at least 3, and at least 5 stay hidden).
        shard_rows: rows per Parquet file.
        pretty_name: the card's title.
        min_eval_items: a small build raises its eval share (up to ``max_eval_share``) until
            this many functions are held out; see :func:`.split.effective_share`.
        max_eval_share: the ceiling of that raise.
        provenance: what made the records (corpus, writer, model, settings, versions), written
            with the build's own options to ``build.json``, which the release manifest carries;
            its ``source_datasets`` go to the card. Keep clocks and local paths out of it.

    Returns:
        A :class:`BuildReport`.

    Memory stays flat in the number of records (see the module docstring); disk use in the staging
    folder is about the pickled kept rows plus the output. SIGTERM (where it has its default
    action) and exceptions remove the staging folder; SIGKILL can leave it, hidden, beside
    ``out_dir``, but never a half-written ``out_dir``.

    Raises:
        ConfigError: an option out of range.
        DatasetError: no usable function, a malformed record, or an ``out_dir`` that is not ours.
    """
    cfg = BuildConfig(
        seed, eval_share, samples_per_function, max_observed, shard_rows, pretty_name, min_eval_items, max_eval_share
    )
    out = Path(out_dir).absolute()
    check_target(out)

    # Folders this build creates above ``out``: removed again if the build fails and they are empty.
    made = [parent for parent in (out.parent, *out.parent.parents) if not parent.exists()]
    writers: list[shards.ShardWriter] = []
    staged: Path | None = None
    with _cleanup_on_sigterm():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
            os.chmod(staged, 0o755)
            report = _build_into(records, out, staged, writers, cfg, summary, provenance or {})
        except BaseException:
            for writer in writers:
                writer.abort()
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
            for folder in made:  # deepest first
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
    logger.info(
        "built %s: %d train functions, %d prompted samples, %d eval items (thresholds %g / %g)",
        out, report.n_train, report.prompted_rows, report.n_eval, *report.thresholds,
    )
    return report


_OK, _UNDEFINED, _CRASHED = 0, 1, 2
# Where in the input a drop happens, for the order in which reasons are first seen: the builder's
# own drops come after the record's case drops.
_AFTER_CASES = 1 << 30


class _Drops:
    """Dropped records and cases by reason, listed in the order of the input record that first
    gave each reason (as a single pass over the input would have counted them), whatever pass
    finds them."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.first: dict[str, tuple[int, int]] = {}

    def add(self, reason: str, at: tuple[int, int], n: int = 1) -> None:
        self.counts[reason] += n
        if reason not in self.first or at < self.first[reason]:
            self.first[reason] = at

    def ordered(self) -> Counter:
        return Counter({reason: self.counts[reason] for reason in sorted(self.first, key=self.first.__getitem__)})


def _spill_records(records: Iterable[Mapping[str, Any]], runs: SortedRuns, drops: _Drops) -> tuple[int, dict[int, BaseException]]:
    """Pass 1, in input order: normalise and score each record and spill it, keyed ``(id, index)``.

    Returns the number of records and the exceptions other than :class:`DatasetError` that scoring
    raised, by record index (raised later only if the record is not a duplicate: the single-pass
    builder never scored duplicates).
    """
    crashes: dict[int, BaseException] = {}
    n_input = 0
    dumps, protocol = pickle.dumps, pickle.HIGHEST_PROTOCOL
    for index, record in enumerate(records):
        n_input += 1
        local: Counter = Counter()
        row = _normalise(record, index, local)
        for position, (reason, n) in enumerate(local.items()):
            drops.add(reason, (index, position), n)
        if row is None:
            continue
        key = (row["id"], index)
        try:
            value, row["stats"] = difficulty.score(row["code"], row["entry_point"], row["cases"])
            row["stats"].update(_coverage_stats(row["quality"]))
        except DatasetError as exc:
            runs.add(key, (_UNDEFINED, str(exc), b""))
            continue
        except Exception as exc:  # noqa: BLE001 - re-raised in pass 2 unless the record is a duplicate
            crashes[index] = exc
            runs.add(key, (_CRASHED, None, b""))
            continue
        facts = (value, len(row["cases"]), row["source"]["license"], row["quality"])
        blob = dumps(row, protocol=protocol)
        runs.add(key, (_OK, facts, blob), len(blob))
    return n_input, crashes


def _kept(runs: SortedRuns, on_drop: Any = None) -> Iterator[tuple[str, Any, bytes]]:
    """Kept functions in id order: of the records sharing an id, the first (in input order) that
    defines its entry point; the ones after it are duplicates, the failing ones before it dropped.
    ``on_drop(reason, function_id, index, kind, detail)`` hears of every drop."""
    current, kept = None, False
    for (function_id, index), (kind, detail, blob) in runs.merged():
        if function_id != current:
            current, kept = function_id, False
        if kept:
            if on_drop:
                on_drop("duplicate id", function_id, index, kind, detail)
        elif kind == _OK:
            kept = True
            yield function_id, detail, blob
        elif on_drop:
            on_drop("code does not define its entry point", function_id, index, kind, detail)


def _build_into(
    records: Iterable[Mapping[str, Any]],
    out: Path,
    staged: Path,
    writers: list[shards.ShardWriter],
    cfg: BuildConfig,
    summary: Mapping[str, Any] | None,
    provenance: Mapping[str, Any],
) -> BuildReport:
    """The build, streaming: spill and sort the functions, fold their small facts, then write every
    split in id order, the card last, and swap ``staged`` into ``out``."""
    drops = _Drops()
    runs = SortedRuns(staged / ".spill", run_bytes=_RUN_BYTES)
    n_input, crashes = _spill_records(records, runs, drops)
    runs.finish()
    folded = _fold(runs, drops, crashes, cfg)
    dropped = drops.ordered()
    if not folded.n_functions:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(dropped.items())) or "the input was empty"
        raise DatasetError(f"no functions to build a dataset from ({n_input} records; {reasons})", path=str(out))
    plan = _plan_split(folded, cfg)
    written = write_rows(_kept(runs), staged, writers, plan, cfg)
    runs.cleanup()
    files, splits, sizes, download_sizes = written.close()

    counts = {config: {"train": written.by_level(config)} for config in written.train_out}
    counts["eval"] = {"test": written.by_level("eval")}
    facts = {
        **(summary or {}),
        "build": {
            "seed": cfg.seed,
            "eval share": cfg.eval_share,
            "eval share used": plan.share,
            "samples per function": cfg.samples_per_function,
            "records in": n_input,
            "functions": folded.n_functions,
            "train functions": written.n_train,
            "eval functions": written.n_eval,
            "eval candidates with too few cases (to train)": written.demoted,
            "difficulty thresholds": f"easy < {plan.cuts[0]:g} <= medium < {plan.cuts[1]:g} <= hard",
            "dropped": dict(dropped),
        },
    }
    quality = _quality(folded.tally, summary or {}, dropped)
    plots = build_plots(
        {config: written.by_level(config) for config in ("raw", "rl", "eval")},
        {"prompt": written.lengths["prompted: prompt (characters)"], "completion": written.lengths["prompted: completion (characters)"]},
        written.coverage,
        dict(sorted(written.outcomes.items())),
    )
    text = _card_text(out, cfg, summary or {}, provenance, folded, plan, written, counts, facts, splits,
                      card_mod.dataset_info_metadata(sizes, download_sizes), extra=plots_section(plots) + "\n\n" + card_mod.quality_section(quality))
    (staged / "README.md").write_text(text, encoding="utf-8")
    for name, (_, png) in plots.items():
        (staged / PLOTS_DIR).mkdir(exist_ok=True)
        (staged / PLOTS_DIR / name).write_bytes(png)
    made_by = {**provenance, "dataset": {**asdict(cfg), "eval_share_used": plan.share}}
    (staged / "build.json").write_text(json.dumps(made_by, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    check_target(out)  # it may have changed while we were writing
    swap_into_place(staged, out)

    return BuildReport(
        out_dir=out,
        n_input=n_input,
        n_train=written.n_train,
        n_eval=written.n_eval,
        eval_demoted=written.demoted,
        thresholds=plan.cuts,
        counts=counts,
        dropped=dict(dropped),
        files=[path.relative_to(staged).as_posix() for path in files] + ["README.md", "build.json"]
        + [f"{PLOTS_DIR}/{name}" for name in plots],
        cases=folded.n_cases,
        quality=quality,
    )


@dataclass
class _Folded:
    """Pass 2's few numbers per kept function, in id order, and what it summed."""

    n_functions: int = 0
    n_cases: int = 0
    scores: array = field(default_factory=lambda: array("d"))  # difficulty score
    eval_buckets: array = field(default_factory=lambda: array("H"))  # of the gradable functions only
    gradable: array = field(default_factory=lambda: array("b"))  # enough cases to be an eval item
    licenses: set[str] = field(default_factory=set)
    tally: QualityTally = field(default_factory=QualityTally)


def _fold(runs: SortedRuns, drops: _Drops, crashes: dict[int, BaseException], cfg: BuildConfig) -> _Folded:
    """Pass 2, in id order: dedupe, and keep a few numbers per function."""
    reached: list[int] = []

    def on_drop(reason: str, function_id: str, index: int, kind: int, detail: Any) -> None:
        if reason != "duplicate id":
            if kind == _CRASHED:  # the single pass would have stopped on it
                reached.append(index)
                return
            logger.warning("dropping function %s: %s", function_id, detail)
        drops.add(reason, (index, _AFTER_CASES))

    folded = _Folded()
    min_eval_cases = cfg.split_config.min_eval_cases
    for function_id, (value, row_cases, license_, quality), _blob in _kept(runs, on_drop):
        folded.n_functions += 1
        folded.n_cases += row_cases
        folded.scores.append(value)
        folded.gradable.append(row_cases >= min_eval_cases)
        if row_cases >= min_eval_cases:
            folded.eval_buckets.append(split.bucket(function_id, seed=cfg.seed))
        folded.licenses.add(license_ or "unknown")
        if quality:
            folded.tally.add(quality)
    if reached:
        raise crashes[min(reached)]
    return folded


def _plan_split(folded: _Folded, cfg: BuildConfig) -> SplitPlan:
    """The difficulty thresholds, the eval share, and per level the bucket under which a gradable
    function is held out (about a third of the eval items per level, see split.level_thresholds)."""
    cuts = difficulty.thresholds(folded.scores)
    share = split.effective_share(
        folded.eval_buckets, eval_share=cfg.eval_share, min_eval_items=cfg.min_eval_items, max_share=cfg.max_eval_share
    )
    n_eval_expected = sum(1 for b in folded.eval_buckets if b < round(share * 10_000))
    by_level: dict[str, list[int]] = {level: [] for level in schema.DIFFICULTIES}
    for value, bucket in zip((v for v, ok in zip(folded.scores, folded.gradable) if ok), folded.eval_buckets):
        by_level[difficulty.level(value, cuts)].append(bucket)
    eval_below = split.level_thresholds(by_level, n_eval_expected, schema.DIFFICULTIES)
    return SplitPlan(cuts=cuts, share=share, n_eval_expected=n_eval_expected, eval_below=eval_below,
                     n_train_expected=folded.n_functions - n_eval_expected)


def _card_text(out: Path, cfg: BuildConfig, summary: Mapping[str, Any], provenance: Mapping[str, Any], folded: _Folded,
               plan: SplitPlan, written: RowsWritten, counts: dict, facts: dict, splits: dict[str, list[str]],
               dataset_info: Any, *, extra: str) -> str:
    """The card, from the final counts."""
    n_prompted = sum(counts["prompted"]["train"].values())
    return card_mod.render_card(
        {
            "pretty_name": cfg.pretty_name,
            "n_rows": max(written.n_train, n_prompted, written.n_eval),
            "counts": counts,
            "facts": facts,
            "thresholds": plan.cuts,
            "licenses": sorted(folded.licenses),
            "load_name": out.name,
            "samples_per_function": cfg.samples_per_function,
            "n_instructions": len(templates.INSTRUCTIONS),
            "n_formats": len(templates.CASE_FORMATS),
            "min_hidden": cfg.split_config.min_hidden,
            "splits": splits,
            "dataset_info": dataset_info,
            "source_datasets": "\n".join(f"- {name}" for name in provenance.get("source_datasets", ["original"])),
            "harness_imports": literals.harness_imports(),
            "examples": card_mod.example_rows({c: written.first_rows[c] for c in schema.CONFIGS if c in written.first_rows}),
            "lengths": card_mod.length_table(written.lengths),
            "python_version": provenance.get("versions", {}).get("python") or platform.python_version(),
            "writer_phrase": _writer_phrase(provenance),
            "corpus_phrase": _corpus_phrase(provenance, summary),
        },
        extra_sections=extra,
    )
