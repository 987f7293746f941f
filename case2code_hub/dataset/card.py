"""The dataset card: ``case2code_hub/dataset_card/README.md`` rendered with ``string.Template``, checked with
``huggingface_hub.DatasetCard`` and the ``datasets`` metadata reader before it is written.

The YAML ``configs:`` block comes from :func:`configs_metadata`, the one place that says where each
config's files live; the builder names its files to match. Later features (plots, changelog) add
placeholders to the template and keys to the mapping given to :func:`render_card`.
"""

from __future__ import annotations

import string
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import DatasetError
from ..schema import CONFIGS, DIFFICULTIES

#: Written into every card; a folder whose README.md has it is a previous build, safe to replace.
CARD_MARKER = "<!-- case2code-hub:dataset-card -->"
#: The template, shipped inside the package (package data) so that installs carry it.
TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "dataset_card" / "README.md"

_ALL_SPLITS = {**{config: ("train",) for config in CONFIGS if config != "eval"}, "eval": DIFFICULTIES}
_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
)


def _toolkit_version() -> str:
    # From the installed metadata, not ``case2code_hub.__version__``: the package may be imported
    # as a namespace (editable installs under pytest) where ``__init__`` never ran.
    try:
        return metadata.version("case2code-hub")
    except metadata.PackageNotFoundError:
        return "unknown"


def configs_metadata(splits: Mapping[str, Iterable[str]] | None = None) -> list[dict[str, Any]]:
    """The card's ``configs:``: file patterns per config and split (eval difficulty splits share files).

    Args:
        splits: the non-empty splits per config (``{"eval": {"easy", "hard"}, ...}``); all of them
            by default. ``datasets`` refuses to load a split without rows, so an empty split is
            left out of the card, and a config without any split is left out entirely; ``eval``'s
            ``test`` is the union of whichever difficulty splits remain.
    """
    present = {config: set(names) for config, names in (_ALL_SPLITS if splits is None else splits).items()}
    levels = [level for level in DIFFICULTIES if level in present.get("eval", ())]
    configs: list[dict[str, Any]] = []
    for config in (c for c in CONFIGS if c != "eval"):  # one split each, train
        if "train" in present.get(config, ()):
            configs.append({"config_name": config, "data_files": [{"split": "train", "path": f"{config}/train-*.parquet"}]})
    if configs and configs[0]["config_name"] == "raw":
        configs[0]["default"] = True
    if levels:
        by_level = {level: f"eval/{level}-*.parquet" for level in levels}
        data_files = [{"split": "test", "path": list(by_level.values())}]
        data_files += [{"split": level, "path": path} for level, path in by_level.items()]
        configs.append({"config_name": "eval", "data_files": data_files})
    return configs


def dataset_info_metadata(sizes: Mapping[str, Mapping[str, tuple[int, int]]],
                          download_sizes: Mapping[str, int], *, features_of: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The card's ``dataset_info``: features and, per split, rows and Arrow bytes, as ``datasets``
    writes it (``DatasetInfosDict.to_dataset_card_data``) and reads it back.

    Args:
        sizes: ``{config: {split: (rows, arrow_bytes)}}`` of the files written; for ``eval`` its
            difficulty splits (``test``, their union over the same files, is added here).
        download_sizes: Parquet bytes per config.
        features_of: a config's features where they differ from ``schema.features`` (a
            calibrated eval config has two more columns).
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    from ..schema import features

    infos = {}
    for config, splits in sizes.items():
        if config == "eval":  # as configs_metadata declares it: test first, over the levels' files
            splits = {"test": (sum(r for r, _ in splits.values()), sum(b for _, b in splits.values())), **splits}
        split_dict = SplitDict()
        for name, (rows, nbytes) in splits.items():
            split_dict.add(SplitInfo(name=name, num_bytes=nbytes, num_examples=rows))
        config_features = (features_of or {}).get(config) or features(config)
        infos[config] = DatasetInfo(features=config_features, splits=split_dict, download_size=download_sizes.get(config, 0),
                                    dataset_size=sum(nbytes for _, nbytes in splits.values()))
    data = DatasetCardData()
    DatasetInfosDict(infos).to_dataset_card_data(data)
    info = data.to_dict()["dataset_info"]
    return info if isinstance(info, list) else [info]


def size_category(n_rows: int) -> str:
    """The Hub's ``size_categories`` bucket for a row count."""
    for bound, name in _SIZE_CATEGORIES:
        if n_rows < bound:
            return name
    return "n>100M"


def is_case2code_folder(path: str | Path) -> bool:
    """Whether ``path`` holds a dataset folder written by this builder (its card has our marker)."""
    readme = Path(path) / "README.md"
    try:
        return CARD_MARKER in readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_table(counts: Mapping[str, Mapping[str, Mapping[str, int]]]) -> str:
    """Markdown table of rows per config / split and difficulty.

    Args:
        counts: ``{config: {split: {"easy": n, "medium": n, "hard": n}}}``.
    """
    lines = ["| Config | Split | Rows | " + " | ".join(DIFFICULTIES) + " |", "| --- | --- | ---: |" + " ---: |" * 3]
    for config, splits in counts.items():
        for split, levels in splits.items():
            cells = [str(levels.get(level, 0)) for level in DIFFICULTIES]
            lines.append(f"| `{config}` | `{split}` | {sum(levels.values())} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key in sorted(mapping, key=str):
        value = mapping[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items += _flatten(value, f"{name}.") if value else [(name, "none")]
        else:
            items.append((name, value))
    return items


def how_made_table(facts: Mapping[str, Any]) -> str:
    """Markdown table of build facts (nested mappings such as drop reasons become dotted keys)."""
    lines = ["| | |", "| --- | --- |"]
    lines += [f"| {_md(key)} | {_md(value)} |" for key, value in _flatten(facts)]
    return "\n".join(lines)


def _shorten(value: Any, width: int = 200, items: int = 2) -> Any:
    if isinstance(value, str):
        return value if len(value) <= width else value[:width] + f"... ({len(value) - width} more characters)"
    if isinstance(value, list):
        shown = [_shorten(v, width, items) for v in value[:items]]
        return shown + ([f"... ({len(value) - items} more)"] if len(value) > items else [])
    if isinstance(value, Mapping):
        return {key: _shorten(v, width, items) for key, v in value.items()}
    return value


def example_rows(first_rows: Mapping[str, Mapping[str, Any]]) -> str:
    """The card's "Example rows": the first row of each config as JSON, long texts and lists cut,
    ``difficulty`` as ``load_dataset`` gives it (the ClassLabel's code)."""
    import json

    from ..schema import with_difficulty_codes

    parts = []
    for config, row in first_rows.items():
        text = json.dumps(_shorten(with_difficulty_codes(dict(row))), indent=2, ensure_ascii=False)
        parts.append(f"`{config}`:\n\n```json\n{text}\n```")
    return "\n\n".join(parts) if parts else "No rows."


def length_table(lengths: Mapping[str, Iterable[int]]) -> str:
    """Markdown table of length figures (median, 90th percentile, max) per measured column."""
    lines = ["| Column | Rows | Median | 90th percentile | Max |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, values in lengths.items():
        ordered = sorted(values)
        if not ordered:
            continue
        median = ordered[(len(ordered) - 1) // 2]
        p90 = ordered[min(len(ordered) - 1, (len(ordered) * 9) // 10)]
        lines.append(f"| {_md(name)} | {len(ordered)} | {median} | {p90} | {ordered[-1]} |")
    return "\n".join(lines)


#: Marks the machine-readable copy of the quality summary in the card (``case2code stats`` reads it).
QUALITY_MARKER = "case2code-quality:"


def quality_section(quality: Mapping[str, Any]) -> str:
    """The card's "Input quality" section: a table of the build's quality summary, and the same
    numbers as JSON in an HTML comment for tools. Empty when there is nothing to report.

    Args:
        quality: the output of :func:`case2code_hub.quality.summarise`.
    """
    if not quality:
        return ""
    import json

    from ..quality import format_lines

    lines = [
        "## Input quality",
        "",
        "Measured by the sandbox on the kept cases of every function (train and eval): line and",
        "branch coverage of the entry point and the helpers it reaches, share of calls that return,",
        "distinct outputs, and the yield from harvested to kept functions with the reasons for drops.",
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {_md(label.strip())} | {_md(value)} |" for label, value in format_lines(quality)]
    payload = json.dumps(quality, separators=(",", ":")).replace("--", "-\\u002d")
    lines += ["", f"<!-- {QUALITY_MARKER} {payload} -->", ""]
    return "\n".join(lines)


def read_quality(text: str) -> dict[str, Any] | None:
    """The quality summary embedded in a card by :func:`quality_section`, or None."""
    import json

    start = text.find(f"<!-- {QUALITY_MARKER} ")
    if start < 0:
        return None
    end = text.find(" -->", start)
    try:
        return json.loads(text[start + len(QUALITY_MARKER) + 6 : end])
    except ValueError:
        return None


def validate_card(text: str, *, splits: Mapping[str, Iterable[str]] | None = None) -> Any:
    """Parse a card with ``huggingface_hub.DatasetCard`` and check its ``configs`` as ``datasets`` does.

    Args:
        text: the README.md text.
        splits: the non-empty splits the card should declare (see :func:`configs_metadata`).

    Returns:
        The parsed ``DatasetCard``.

    Raises:
        DatasetError: the YAML does not parse, or its configs are not the ones we declare.
    """
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    try:
        card = DatasetCard(text)
        MetadataConfigs.from_dataset_card_data(card.data)
    except Exception as exc:  # yaml, ValueError from either parser: all mean a broken card
        raise DatasetError(f"the rendered dataset card is invalid: {exc}") from None
    if card.data.to_dict().get("configs") != configs_metadata(splits):
        raise DatasetError("the dataset card's configs differ from the files the builder writes")
    return card


def render_card(
    values: Mapping[str, Any], *, template: str | Path | None = None, extra_sections: str = ""
) -> str:
    """Render and validate the README.md card.

    Args:
        values: template values. Required: ``pretty_name``, ``n_rows`` (sizes the card),
            ``counts`` (see :func:`summary_table`), ``facts`` (see :func:`how_made_table`),
            ``thresholds``, ``licenses``, ``load_name``, ``samples_per_function``,
            ``n_instructions``, ``n_formats``, ``min_hidden``. Optional: ``splits``, the non-empty
            splits (see :func:`configs_metadata`); ``dataset_info`` (see
            :func:`dataset_info_metadata`). Any other key fills a placeholder
            of the same name in a custom template.
        template: path of the template; by default the package's ``dataset_card/README.md``.
        extra_sections: markdown inserted before the citation (plots, changelog).

    Returns:
        The card text.

    Raises:
        DatasetError: template missing, a placeholder without a value, or an invalid result.
    """
    path = Path(template) if template is not None else TEMPLATE_PATH
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read the dataset card template {path}: {exc.strerror}", path=str(path)) from None
    mapping = {key: value for key, value in values.items()
               if key not in ("counts", "facts", "thresholds", "splits", "dataset_info")}
    t1, t2 = values["thresholds"]
    mapping.update(
        marker=CARD_MARKER,
        toolkit_version=_toolkit_version(),
        size_category=size_category(values["n_rows"]),
        configs=yaml.safe_dump({"configs": configs_metadata(values.get("splits"))}, sort_keys=False).rstrip("\n"),
        dataset_info=(yaml.safe_dump({"dataset_info": values["dataset_info"]}, sort_keys=False).rstrip("\n")
                      if values.get("dataset_info") else ""),
        summary_table=summary_table(values["counts"]),
        how_made=how_made_table(values["facts"]),
        threshold_easy=f"{t1:g}",
        threshold_hard=f"{t2:g}",
        licenses=", ".join(f"`{name}`" for name in values["licenses"]) or "none recorded",
        extra_sections=f"\n{extra_sections.strip()}\n" if extra_sections.strip() else "",
    )
    try:
        text = string.Template(source).substitute(mapping)
    except KeyError as exc:
        raise DatasetError(f"the dataset card template needs a value for ${exc.args[0]}", path=str(path)) from None
    except ValueError as exc:
        raise DatasetError(f"the dataset card template is malformed: {exc}", path=str(path)) from None
    validate_card(text, splits=values.get("splits"))
    return text
