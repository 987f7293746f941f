"""Difficulty calibrated on models' measured pass rates (KodCode-style), replacing the static label.

An item's pass rate is the mean over the given results files (one per model) of ``passed / n``.
Levels: ``easy`` when the rate is above :data:`EASY_ABOVE`, ``hard`` when below
:data:`HARD_BELOW`, ``medium`` otherwise; an item no results file scores keeps its static
level. Each row keeps ``static_difficulty`` and gets ``pass_rate`` (``-1.0`` where unmeasured);
the eval difficulty splits are rewritten, and the card gets a section naming the models.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..dataset import card as card_mod
from ..dataset.shards import write_level_files
from ..errors import DatasetError, InputFileError
from ..schema import CONFIGS, DIFFICULTIES, difficulty_name, features
from ..utils.files import atomic_open, iter_jsonl
from ..utils.logging import get_logger

logger = get_logger(__name__)

EASY_ABOVE = 2 / 3
HARD_BELOW = 1 / 3
_SECTION = re.compile(r"\n<!-- calibration -->.*?<!-- /calibration -->\n", re.DOTALL)


@dataclass
class CalibrationReport:
    """What a calibration changed: levels before and after, items measured, models used."""

    out_dir: Path
    models: list[str]
    measured: int
    items: int
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    moved: int = 0


def level_for(rate: float) -> str:
    """The calibrated level of a pass rate in [0, 1]."""
    if rate > EASY_ABOVE:
        return "easy"
    if rate < HARD_BELOW:
        return "hard"
    return "medium"


def read_results(path: str | os.PathLike) -> dict[str, float]:
    """Pass rate per item id from a ``--output`` results file of ``case2code eval``.

    Raises:
        InputFileError: a line without ``id``, ``n`` > 0 and ``passed``.
    """
    rates: dict[str, float] = {}
    for number, row in iter_jsonl(path):
        try:
            n, passed = int(row["n"]), int(row["passed"])
            ident = str(row["id"])
        except (ValueError, KeyError, TypeError):
            raise InputFileError(f"{path}:{number}: not an eval result line (id, n, passed)", path=str(path), line=number) from None
        if n < 1 or not 0 <= passed <= n:
            raise InputFileError(f"{path}:{number}: passed={passed} of n={n} is impossible", path=str(path), line=number)
        rates[ident] = passed / n
    return rates


def calibrate(
    dataset: str | os.PathLike,
    results: Sequence[str | os.PathLike],
    *,
    models: Sequence[str] | None = None,
) -> CalibrationReport:
    """Relabel the eval config's difficulty of a dataset folder from measured pass rates, in place.

    Args:
        dataset: a case2code dataset folder with an ``eval`` config.
        results: ``case2code eval --output`` files, one per model.
        models: the models' names, in the order of ``results``; default the files' stems.

    Returns:
        A :class:`CalibrationReport`.

    Raises:
        DatasetError: not a case2code folder, or no eval files. InputFileError: a bad results file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Features, Value

    folder = Path(dataset)
    if not card_mod.is_case2code_folder(folder):
        raise DatasetError(f"{folder} is not a case2code dataset folder", path=str(folder))
    files = sorted((folder / "eval").glob("*.parquet"))
    if not files:
        raise DatasetError(f"{folder} has no eval files to calibrate", path=str(folder))
    if not results:
        raise InputFileError("give at least one results file")
    names = list(models) if models else [Path(p).stem for p in results]
    if len(names) != len(results):
        raise InputFileError(f"{len(names)} model names for {len(results)} results files")
    per_model = [read_results(path) for path in results]

    table = pa.concat_tables([pq.read_table(path) for path in files], promote_options="default")
    rows = table.to_pylist()
    for row in rows:  # the ClassLabel codes (or, in a folder from before them, the names) as names
        row["difficulty"] = difficulty_name(row["difficulty"])
        if row.get("static_difficulty") is not None:
            row["static_difficulty"] = difficulty_name(row["static_difficulty"])
    before = Counter(row["difficulty"] for row in rows)
    measured = moved = 0
    for row in rows:
        row.setdefault("static_difficulty", row["difficulty"])
        if row.get("static_difficulty") is None:
            row["static_difficulty"] = row["difficulty"]
        rates = [rates[row["id"]] for rates in per_model if row["id"] in rates]
        if rates:
            measured += 1
            row["pass_rate"] = round(sum(rates) / len(rates), 6)
            new = level_for(row["pass_rate"])
            moved += new != row["difficulty"]
            row["difficulty"] = new
        else:
            row["pass_rate"] = -1.0
    rows.sort(key=lambda r: r["id"])
    written = Features.from_arrow_schema(table.schema)
    # A ClassLabel as a build writes it, also where the folder predates it.
    written["difficulty"] = written["static_difficulty"] = features("eval")["difficulty"]
    if "pass_rate" not in written:
        written["pass_rate"] = Value("float64")
    schema = written.arrow_schema

    staged = folder / ".eval.calibrating"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    sizes = write_level_files(staged, rows, schema)
    levels = list(sizes)
    download = sum(path.stat().st_size for path in staged.glob("*.parquet"))
    info = card_mod.dataset_info_metadata({"eval": sizes}, {"eval": download},
                                          features_of={"eval": written})[0]
    _rewrite_card(folder, levels, names, measured, len(rows), Counter(r["difficulty"] for r in rows), info)
    old = folder / ".eval.previous"
    shutil.rmtree(old, ignore_errors=True)
    (folder / "eval").rename(old)
    staged.rename(folder / "eval")
    shutil.rmtree(old, ignore_errors=True)

    after = Counter(r["difficulty"] for r in rows)
    report = CalibrationReport(out_dir=folder, models=names, measured=measured, items=len(rows),
                               before={lv: before.get(lv, 0) for lv in DIFFICULTIES},
                               after={lv: after.get(lv, 0) for lv in DIFFICULTIES}, moved=moved)
    logger.info("calibrated %d of %d eval items on %s; %d changed level", measured, len(rows), ", ".join(names), moved)
    return report


def _present_splits(folder: Path, eval_levels: Iterable[str]) -> dict[str, list[str]]:
    splits = {config: ["train"] for config in CONFIGS if config != "eval" and any((folder / config).glob("train-*.parquet"))}
    splits["eval"] = list(eval_levels)
    return splits


def _rewrite_card(folder: Path, levels: list[str], models: list[str], measured: int, total: int, counts: Counter,
                  eval_info: dict[str, Any]) -> None:
    import yaml
    from huggingface_hub import DatasetCard

    path = folder / "README.md"
    text = path.read_text(encoding="utf-8")
    splits = _present_splits(folder, levels)
    card = DatasetCard(text)
    card.data.configs = card_mod.configs_metadata(splits)
    # The eval config's features gained two columns and its splits moved: its dataset_info too.
    infos = card.data.to_dict().get("dataset_info") or []
    infos = infos if isinstance(infos, list) else [infos]
    card.data.dataset_info = [i for i in infos if i.get("config_name") != "eval"] + [eval_info]
    header = "---\n" + yaml.safe_dump(card.data.to_dict(), sort_keys=False, allow_unicode=True) + "---\n"
    body = _SECTION.sub("\n", card.text)
    section = (
        "\n<!-- calibration -->\n## Difficulty calibration\n\n"
        f"The `eval` difficulty splits are calibrated on measured pass rates of {', '.join(f'`{m}`' for m in models)} "
        f"({measured} of {total} items measured): `easy` above {EASY_ABOVE:.3g} pass@1, `hard` below {HARD_BELOW:.3g}, "
        "`medium` between; unmeasured items keep their static level. Each row keeps `static_difficulty` "
        "and has `pass_rate` (-1 where unmeasured).\n\n"
        + "".join(f"- `{level}`: {counts.get(level, 0)}\n" for level in DIFFICULTIES)
        + "<!-- /calibration -->\n"
    )
    marker = "\n## Citation"
    body = body.replace(marker, section + marker, 1) if marker in body else body.rstrip("\n") + "\n" + section
    new_text = header + body
    card_mod.validate_card(new_text, splits=splits)
    with atomic_open(path) as handle:
        handle.write(new_text)
