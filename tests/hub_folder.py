"""Small dataset folders shaped like ``case2code build`` output, made with pyarrow, for hub tests.

Independent of the builder: a README.md with the YAML ``configs:`` the card declares, and Parquet
files under ``raw/``, ``prompted/`` and ``eval/{easy,medium,hard}-*``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from datasets import Features

from case2code_hub.dataset.card import configs_metadata

# The configs this fixture writes (a real build has more; the hub code reads whatever the card declares).
SPLITS = {"raw": ["train"], "prompted": ["train"], "eval": ["easy", "medium", "hard"]}
from case2code_hub.schema import DIFFICULTIES, difficulty_code, features


def card_text(pretty_name: str = "Case2Code test") -> str:
    header = {"pretty_name": pretty_name, "license": "other", "language": ["en", "code"], "configs": configs_metadata(SPLITS)}
    return (
        "---\n"
        + yaml.safe_dump(header, sort_keys=False)
        + "---\n\n# "
        + pretty_name
        + "\n\nA test build.\n\n## Citation\n\n```bibtex\n@article{shao2024case2code}\n```\n"
    )


def _rows(prefix: str, count: int, level_of: int | None = None, *, with_cases: bool = False,
          class_label: bool = True) -> pa.Table:
    levels = [DIFFICULTIES[(i if level_of is None else level_of) % 3] for i in range(count)]
    columns = {
        "id": [f"{prefix}-{i:06d}" for i in range(count)],
        "entry_point": [f"f{i}" for i in range(count)],
        "text": [f"def f{i}(x):\n    return x + {i}\n" for i in range(count)],
        # As a build writes it: the ClassLabel's int64 code (the feature in the schema's metadata).
        "difficulty": pa.array([difficulty_code(level) for level in levels], pa.int64()) if class_label else levels,
    }
    if with_cases:  # the raw config's case list and source, as the data contract has them
        columns["cases"] = [
            [{"input": str(k), "output": str(k + i), "outcome": "raised" if (i + k) % 7 == 0 else "returned"} for k in range(5 + i % 4)]
            for i in range(count)
        ]
        columns["source"] = [{"corpus": "stdlib" if i % 3 else "folder", "path": f"m{i}.py", "license": "PSF-2.0"} for i in range(count)]
    table = pa.table(columns)
    if not class_label:
        return table
    written = Features.from_arrow_schema(table.schema)
    written["difficulty"] = features("raw")["difficulty"]
    return table.cast(written.arrow_schema)


def write_dataset_folder(
    root: Path,
    *,
    tag: str = "a",
    raw_rows: int = 12,
    prompted_rows: int = 24,
    eval_rows: dict[str, int] | None = None,
    raw_shards: int = 1,
    class_label: bool = True,
) -> Path:
    """Write a dataset folder under ``root``; ``tag`` goes into every id, so builds differ by tag.
    ``class_label=False``: difficulty as the names, as releases before the ClassLabel have it."""
    eval_rows = eval_rows or {"easy": 2, "medium": 3, "hard": 4}
    root.mkdir(parents=True, exist_ok=True)
    per_shard = raw_rows // raw_shards
    for shard in range(raw_shards):
        (root / "raw").mkdir(exist_ok=True)
        count = per_shard if shard < raw_shards - 1 else raw_rows - per_shard * (raw_shards - 1)
        table = _rows(f"{tag}-raw{shard}", count, with_cases=True, class_label=class_label)
        pq.write_table(table, root / "raw" / f"train-{shard:05d}-of-{raw_shards:05d}.parquet")
    (root / "prompted").mkdir(exist_ok=True)
    pq.write_table(_rows(f"{tag}-prompted", prompted_rows, class_label=class_label), root / "prompted" / "train-00000-of-00001.parquet")
    (root / "eval").mkdir(exist_ok=True)
    for index, level in enumerate(DIFFICULTIES):
        pq.write_table(_rows(f"{tag}-eval-{level}", eval_rows[level], level_of=index, class_label=class_label), root / "eval" / f"{level}-00000-of-00001.parquet")
    (root / "README.md").write_text(card_text(), encoding="utf-8")
    (root / "build.json").write_text(json.dumps({"corpus": "stdlib", "seed": 0, "writer": "offline"}), encoding="utf-8")
    return root
