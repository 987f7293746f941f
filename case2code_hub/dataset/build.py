"""Assemble the dataset folder: functions with cases in, ``raw`` / ``prompted`` / ``eval`` Parquet and
a README.md card out, written so that stock ``datasets.load_dataset(folder, config)`` reads it.

The folder is written beside ``out_dir`` and swapped in at the end: a failed build leaves the
previous one untouched, and a folder that is not a previous build is never replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import quality as quality_mod
from .. import schema
from ..errors import ConfigError, DatasetError
from ..utils.logging import get_logger, progress
from . import card as card_mod
from . import difficulty, split, templates

logger = get_logger(__name__)

KEPT_OUTCOMES = ("returned", "raised")
# Parquet settings are fixed so two builds of the same rows are byte-identical.
_ROW_GROUP_ROWS = 10_000
_PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": True, "write_statistics": True}


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
        if case["outcome"] in KEPT_OUTCOMES:
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


def _quality(rows: list[dict[str, Any]], summary: Mapping[str, Any], dropped: Mapping[str, int]) -> dict[str, Any]:
    """The build's quality summary: kept functions' measured quality, yield and drop reasons.

    ``harvest/kept`` and ``dropped/<reason>`` come from the pipeline's counters in ``summary``
    (absent when records were handed in directly); the builder's own drops are added.
    """
    harvested = summary.get("harvest/kept")
    reasons = {key.split("/", 1)[1]: int(value) for key, value in summary.items()
               if isinstance(key, str) and key.startswith("dropped/") and isinstance(value, int)}
    reasons.update({f"build: {reason}": int(count) for reason, count in dropped.items()})
    qualities = [row["quality"] for row in rows if row.get("quality")]
    return quality_mod.summarise(qualities, harvested=int(harvested) if isinstance(harvested, int) else None,
                                 dropped=reasons)


def _eval_row(row: dict[str, Any], cfg: BuildConfig) -> dict[str, Any]:
    cases = row["cases"]
    rng = templates.rng_for(cfg.seed, row["id"], "eval")
    most = min(cfg.max_observed, len(cases) - cfg.split_config.min_hidden)
    k = rng.randint(cfg.split_config.min_observed, max(most, cfg.split_config.min_observed))
    observed, hidden = cases[:k], cases[k:]
    return {
        "id": row["id"],
        "entry_point": row["entry_point"],
        "prompt": templates.render_eval_prompt(row["entry_point"], observed),
        "observed_cases": observed,
        "hidden_cases": hidden,
        "reference_code": row["code"],
        "difficulty": row["difficulty"],
    }


def _write_shards(rows: list[dict[str, Any]], folder: Path, name: str, config: str, shard_rows: int) -> list[Path]:
    """Write ``rows`` as ``folder/{name}-0000i-of-0000n.parquet`` with the config's Arrow schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_schema = schema.features(config).arrow_schema
    n_shards = max(1, -(-len(rows) // shard_rows))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(n_shards):
        chunk = rows[shard * shard_rows : (shard + 1) * shard_rows]
        path = folder / f"{name}-{shard:05d}-of-{n_shards:05d}.parquet"
        # An empty split is a file with no row group at all: ``datasets`` reads that as zero rows,
        # but fails on a file holding one empty row group (what ``write_table`` would produce).
        with pq.ParquetWriter(path, arrow_schema, **_PARQUET_OPTIONS) as writer:
            if chunk:
                writer.write_table(pa.Table.from_pylist(chunk, schema=arrow_schema), row_group_size=_ROW_GROUP_ROWS)
        paths.append(path)
    return paths


def check_target(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither empty nor an earlier case2code build."""
    if not out.exists():
        return
    if not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; refusing to replace it", path=str(out))
    if any(out.iterdir()) and not card_mod.is_case2code_folder(out):
        raise DatasetError(
            f"{out} is not empty and is not a case2code dataset folder; refusing to overwrite it "
            "(choose another --out or remove it yourself)",
            path=str(out),
        )


def _swap_into_place(staged: Path, out: Path) -> None:
    """Replace ``out`` by ``staged``, keeping the previous build until the new one is in place."""
    if not out.exists():
        staged.rename(out)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
    previous = holder / out.name
    try:
        out.rename(previous)
        try:
            staged.rename(out)
        except BaseException:
            previous.rename(out)
            raise
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _level_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = Counter(row["difficulty"] for row in rows)
    return {level: counts.get(level, 0) for level in schema.DIFFICULTIES}


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

    Returns:
        A :class:`BuildReport`.

    Raises:
        ConfigError: an option out of range.
        DatasetError: no usable function, a malformed record, or an ``out_dir`` that is not ours.
    """
    cfg = BuildConfig(
        seed, eval_share, samples_per_function, max_observed, shard_rows, pretty_name, min_eval_items, max_eval_share
    )
    out = Path(out_dir).absolute()
    check_target(out)

    dropped: Counter = Counter()
    functions: dict[str, dict[str, Any]] = {}
    n_input = 0
    for index, record in enumerate(records):
        n_input += 1
        row = _normalise(record, index, dropped)
        if row is None:
            continue
        if row["id"] in functions:
            dropped["duplicate id"] += 1
            continue
        try:
            value, row["stats"] = difficulty.score(row["code"], row["entry_point"], row["cases"])
            row["stats"].update(_coverage_stats(row["quality"]))
        except DatasetError as exc:
            logger.warning("dropping function %s: %s", row["id"], exc)
            dropped["code does not define its entry point"] += 1
            continue
        functions[row["id"]] = row
    if not functions:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(dropped.items())) or "the input was empty"
        raise DatasetError(f"no functions to build a dataset from ({n_input} records; {reasons})", path=str(out))

    rows = [functions[key] for key in sorted(functions)]
    cuts = difficulty.thresholds(row["stats"]["difficulty_score"] for row in rows)
    share = split.effective_share(
        (split.bucket(row["id"], seed=cfg.seed) for row in rows if len(row["cases"]) >= cfg.split_config.min_eval_cases),
        eval_share=cfg.eval_share,
        min_eval_items=cfg.min_eval_items,
        max_share=cfg.max_eval_share,
    )
    split_config = replace(cfg.split_config, eval_share=share)
    train, held_out, demoted = [], [], 0
    for row in rows:
        row["difficulty"] = difficulty.level(row["stats"]["difficulty_score"], cuts)
        side = split.assign(row["id"], len(row["cases"]), config=split_config)
        if side == "train" and split.is_eval_candidate(row["id"], seed=cfg.seed, eval_share=share):
            demoted += 1
        (held_out if side == "eval" else train).append(row)

    prompted: list[dict[str, Any]] = []
    with progress() as bar:
        task = bar.add_task("Rendering prompts", total=len(train))
        for row in train:
            prompted += templates.render_samples(row, n=cfg.samples_per_function, seed=cfg.seed)
            bar.advance(task)
    eval_rows = [_eval_row(row, cfg) for row in held_out]
    raw_rows = [{key: row[key] for key in schema.features("raw")} for row in train]

    counts = {
        "raw": {"train": _level_counts(raw_rows)},
        "prompted": {"train": _level_counts(prompted)},
        "eval": {"test": _level_counts(eval_rows)},
    }
    facts = {
        **(summary or {}),
        "build": {
            "seed": cfg.seed,
            "eval share": cfg.eval_share,
            "eval share used": share,
            "samples per function": cfg.samples_per_function,
            "records in": n_input,
            "functions": len(rows),
            "train functions": len(train),
            "eval functions": len(eval_rows),
            "eval candidates with too few cases (to train)": demoted,
            "difficulty thresholds": f"easy < {cuts[0]:g} <= medium < {cuts[1]:g} <= hard",
            "dropped": dict(dropped),
        },
    }
    licenses = sorted({row["source"]["license"] or "unknown" for row in rows})
    quality = _quality(rows, summary or {}, dropped)

    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        os.chmod(staged, 0o755)
        parts = [("raw", "train", raw_rows), ("prompted", "train", prompted)]
        parts += [("eval", level, [r for r in eval_rows if r["difficulty"] == level]) for level in schema.DIFFICULTIES]
        files: list[Path] = []
        splits: dict[str, list[str]] = {}
        for config, name, part in parts:
            # ``datasets`` refuses to load a split without rows: an empty split gets no file and
            # no entry in the card.
            if part:
                files += _write_shards(part, staged / config, name, config, cfg.shard_rows)
                splits.setdefault(config, []).append(name)
        text = card_mod.render_card(
            {
                "pretty_name": cfg.pretty_name,
                "n_rows": max(len(raw_rows), len(prompted), len(eval_rows)),
                "counts": counts,
                "facts": facts,
                "thresholds": cuts,
                "licenses": licenses,
                "load_name": out.name,
                "samples_per_function": cfg.samples_per_function,
                "n_instructions": len(templates.INSTRUCTIONS),
                "n_formats": len(templates.CASE_FORMATS),
                "min_hidden": cfg.split_config.min_hidden,
                "splits": splits,
            },
            extra_sections=card_mod.quality_section(quality),
        )
        (staged / "README.md").write_text(text, encoding="utf-8")
        check_target(out)  # it may have changed while we were writing
        _swap_into_place(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise

    report = BuildReport(
        out_dir=out,
        n_input=n_input,
        n_train=len(train),
        n_eval=len(eval_rows),
        eval_demoted=demoted,
        thresholds=cuts,
        counts=counts,
        dropped=dict(dropped),
        files=[path.relative_to(staged).as_posix() for path in files] + ["README.md"],
        cases=sum(len(row["cases"]) for row in rows),
        quality=quality,
    )
    logger.info(
        "built %s: %d train functions, %d prompted samples, %d eval items (thresholds %g / %g)",
        out, len(train), len(prompted), len(eval_rows), *cuts,
    )
    return report
