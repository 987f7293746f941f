"""The local side of a release: what a dataset folder holds, its ``case2code.json`` manifest, and
the card's release sections (plots, changelog)."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .._version import __version__
from ..errors import DatasetError
from ..dataset.plots import PLOTS_DIR, plots_section  # noqa: F401 - the release's plots, re-exported
from ..schema import CONFIGS, DIFFICULTIES, difficulty_name
from ..utils.logging import get_logger
from .versioning import VersionInfo, _version_str, parse_version

logger = get_logger(__name__)

MANIFEST = "case2code.json"
MANIFEST_FORMAT = 1
CARD = "README.md"
_SECTIONS_START = "<!-- case2code-hub:release -->"
_SECTIONS_END = "<!-- /case2code-hub:release -->"


# -- the local folder -------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_files(folder: Path) -> list[str]:
    """Every file to publish, as sorted posix paths; hidden paths and our own manifest are left out."""
    files = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.as_posix() != MANIFEST:
            files.append(rel.as_posix())
    return sorted(files)


def _card_configs(card_data: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    """``(config, split, patterns)`` from the card's YAML ``configs:``."""
    out = []
    for config in card_data.get("configs") or []:
        data_files = config.get("data_files") or []
        if isinstance(data_files, str):
            data_files = [{"split": "train", "path": data_files}]
        for item in data_files:
            patterns = item.get("path")
            out.append((config["config_name"], item.get("split", "train"), [patterns] if isinstance(patterns, str) else list(patterns)))
    return out


def _config_files(facts: "FolderFacts", config: str) -> list[str]:
    """The folder's files that the card's ``configs:`` give to ``config``."""
    patterns = [p for name, _, pats in _card_configs(facts.card_data) if name == config for p in pats]
    return [n for n in facts.files if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _count_rows(folder: Path, files: list[str], card_data: Mapping[str, Any]) -> tuple[dict, dict]:
    """Rows per config / split and, where rows have ``difficulty``, per difficulty too.

    Reads Parquet footers and the ``difficulty`` column only, never the whole data.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    per_file: dict[str, tuple[int, dict[str, int]]] = {}
    for name in files:
        if not name.endswith(".parquet"):
            continue
        meta = pq.ParquetFile(folder / name)
        levels: dict[str, int] = {}
        if "difficulty" in meta.schema_arrow.names:
            column = pq.read_table(folder / name, columns=["difficulty"]).column("difficulty")
            for entry in pc.value_counts(column).to_pylist():
                level = _level_name(entry["values"])
                levels[level] = levels.get(level, 0) + entry["counts"]
        per_file[name] = (meta.metadata.num_rows, levels)

    specs = _card_configs(card_data)
    if not specs:  # no configs in the card: one config per top folder, split from the file name
        specs = sorted({(n.split("/")[0], Path(n).name.split("-")[0], [f"{n.split('/')[0]}/{Path(n).name.split('-')[0]}-*"]) for n in per_file if "/" in n}, key=str)  # type: ignore[arg-type]
    rows: dict[str, dict[str, int]] = {}
    difficulty: dict[str, dict[str, dict[str, int]]] = {}
    for config, split, patterns in specs:
        matched = [n for n in per_file if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        rows.setdefault(config, {})[split] = sum(per_file[n][0] for n in matched)
        levels: dict[str, int] = {}
        for name in matched:
            for level, count in per_file[name][1].items():
                levels[level] = levels.get(level, 0) + count
        if levels:
            ordered = [lvl for lvl in DIFFICULTIES if lvl in levels] + sorted(set(levels) - set(DIFFICULTIES))
            difficulty.setdefault(config, {})[split] = {lvl: levels[lvl] for lvl in ordered}
    return rows, difficulty


def _level_name(value: Any) -> str:
    """A difficulty value as the manifest counts it: a ClassLabel code's name, a name as it is
    (a folder from before the ClassLabel), anything else as its text."""
    try:
        return difficulty_name(value)
    except DatasetError:
        return str(value)


def _folder_metadata(folder: Path) -> dict[str, Any]:
    """Top-level JSON files the builder left (build facts, config), keyed by file name."""
    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == MANIFEST:
            continue
        try:
            out[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            logger.warning("%s: not readable JSON, left out of the manifest", path)
    return out


@dataclass
class FolderFacts:
    """What a dataset folder holds: files to publish, their checksums, counts and metadata."""

    files: list[str]
    checksums: dict[str, dict[str, Any]]
    rows: dict[str, dict[str, int]]
    difficulty: dict[str, dict[str, dict[str, int]]]
    card_text: str
    card_data: dict[str, Any]
    metadata: dict[str, Any]


def read_folder(folder: str | Path) -> FolderFacts:
    """Hash and count a dataset folder (Parquet footers and ``difficulty`` columns only).

    Raises:
        DatasetError: not a folder, no README.md, no Parquet files, or an unreadable card.
    """
    from huggingface_hub import DatasetCard

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: dataset folder not found", path=str(folder))
    files = _local_files(folder)
    if CARD not in files:
        raise DatasetError(f"{folder}: no README.md: not a dataset folder (run `case2code build`)", path=str(folder))
    if not any(name.endswith(".parquet") for name in files):
        raise DatasetError(f"{folder}: no Parquet files to publish", path=str(folder))
    card_text = (folder / CARD).read_text(encoding="utf-8")
    try:
        card_data = DatasetCard(card_text).data.to_dict()
    except Exception as exc:  # yaml errors and ValueError alike: the card cannot be published
        raise DatasetError(f"{folder / CARD}: invalid card metadata: {exc}", path=str(folder / CARD)) from None
    rows, difficulty = _count_rows(folder, files, card_data)
    checksums = {name: {"sha256": _sha256(folder / name), "size": (folder / name).stat().st_size} for name in files if name != CARD}
    return FolderFacts(files, checksums, rows, difficulty, card_text, card_data, _folder_metadata(folder))


def build_manifest(
    facts: FolderFacts,
    *,
    version: str,
    message: str | None = None,
    previous: str | None = None,
    card_text: str | None = None,
    generated: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """The ``case2code.json`` of a release: toolkit, counts, sha256 of each file, folder metadata.

    Deterministic: no clock, no host, no token; the same folder and arguments give the same dict.

    Args:
        facts: what :func:`read_folder` found.
        version: ``X.Y.Z``.
        message: the release message.
        previous: the version this one follows, if any.
        card_text: the card as it will be published (default the folder's README.md).
        generated: files made for the release (plots), ``path -> bytes``.
    """
    card_bytes = (card_text if card_text is not None else facts.card_text).encode("utf-8")
    checksums = dict(facts.checksums)
    for name, data in {**(generated or {}), CARD: card_bytes}.items():
        checksums[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return {
        "format": MANIFEST_FORMAT,
        "version": _version_str(parse_version(version)),
        "message": message,
        "previous_version": previous,
        "toolkit": {"name": "case2code-hub", "version": __version__},
        "pretty_name": facts.card_data.get("pretty_name"),
        "license": facts.card_data.get("license"),
        "rows": facts.rows,
        "difficulty": facts.difficulty,
        "files": dict(sorted(checksums.items())),
        "metadata": facts.metadata,
    }


# -- the card's changelog -------------------------------------------------------------------


def _main_rows(rows: Mapping[str, Mapping[str, int]], config: str) -> int | None:
    splits = rows.get(config) or {}
    for split in ("train", "test"):
        if split in splits:
            return splits[split]
    return max(splits.values()) if splits else None


def changelog_section(history: list[VersionInfo], current: VersionInfo, *, repo_id: str) -> str:
    """Markdown changelog, newest first: each version's rows per config against the one before."""
    entries = sorted([*history, current], key=lambda v: parse_version(v.version), reverse=True)
    # Known configs in card order, then any others (an older or newer release) by name.
    configs = sorted({c for v in entries for c in v.rows}, key=lambda c: (c not in CONFIGS, CONFIGS.index(c) if c in CONFIGS else 0, c))
    lines = [
        "## Changelog",
        "",
        "Every version is a tag; pin the one you trained or evaluated on:",
        "",
        "```python",
        f'load_dataset("{repo_id}", "eval", split="hard", revision="{current.tag}")',
        "```",
        "",
        "Rows per config, with the change from the version before.",
        "",
        "| Version | Date | Message | " + " | ".join(f"`{c}`" for c in configs) + " |",
        "| --- | --- | --- |" + " ---: |" * len(configs),
    ]
    for index, entry in enumerate(entries):
        before = entries[index + 1] if index + 1 < len(entries) else None
        cells = []
        for config in configs:
            now = _main_rows(entry.rows, config)
            old = _main_rows(before.rows, config) if before else None
            cell = "" if now is None else str(now)
            if now is not None and old is not None:
                cell += f" ({now - old:+d})"
            cells.append(cell)
        date = entry.date.date().isoformat() if entry.date else "this version"
        message = (entry.message or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `v{entry.version}` | {date} | {message} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_release_card(card_text: str, sections: str) -> str:
    """The folder's card with release sections (plots, changelog) before ``## Citation``.

    Sections an earlier release put in the card are replaced, not repeated.

    Rendered through ``huggingface_hub.DatasetCard`` so the YAML header round-trips unchanged.
    """
    from huggingface_hub import DatasetCard

    card = DatasetCard(card_text)
    body = card.text
    changelog = f"{_SECTIONS_START}\n{sections.strip()}\n{_SECTIONS_END}"
    if _SECTIONS_START in body and _SECTIONS_END in body:
        start, end = body.index(_SECTIONS_START), body.index(_SECTIONS_END) + len(_SECTIONS_END)
        body = body[:start] + changelog + body[end:]
    elif "\n## Citation" in body:
        at = body.index("\n## Citation")
        body = body[:at] + "\n" + changelog + "\n" + body[at:]
    else:
        body = body.rstrip("\n") + "\n\n" + changelog + "\n"
    card.text = body
    return str(card)
