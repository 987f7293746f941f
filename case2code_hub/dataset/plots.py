"""The card's plots, drawn with matplotlib (the Agg backend, no display) as PNG files.

The build draws them from what it counted while writing (:func:`build_plots`): rows per
difficulty, prompt and completion lengths, the coverage of the kept cases, and the outcome mix,
so a local folder has them too. :func:`dataset_plots` draws the older set from a folder's Parquet
files, for a folder built without them. Deterministic: the same counts give byte-identical PNGs
(no timestamp or software tag in the file), so a re-published version whose data did not change
re-uses its plots.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..schema import DIFFICULTIES

#: The folder (in a dataset folder and a release) holding the card's PNG files.
PLOTS_DIR = "plots"
_BLUE, _ORANGE, _GREEN = "#3478c6", "#e07b39", "#3a9a5b"
_LEVEL_COLOURS = {"easy": _GREEN, "medium": _BLUE, "hard": _ORANGE}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)  # counts: no 2.5 functions


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    # No "Software" or date chunk: the bytes depend on the data only.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def bar_chart(title: str, bars: Mapping[str, int], *, width: int = 560, height: int = 280) -> bytes:
    """A PNG bar chart: one bar per label, its value above it, the title on top."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(width / 100, height / 100))
    labels, values = list(bars), list(bars.values())
    drawn = ax.bar(range(len(values)), values, color=_BLUE)
    ax.bar_label(drawn, fontsize=8)
    ax.set_xticks(range(len(labels)), labels, fontsize=8, rotation=20 if len(labels) > 6 else 0)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _difficulty_plot(levels: Mapping[str, Mapping[str, int]]) -> bytes:
    plt = _pyplot()
    configs = [c for c, counts in levels.items() if sum(counts.values())]
    fig, axes = plt.subplots(1, len(configs), figsize=(2.2 * len(configs) + 1, 2.8), squeeze=False)
    for ax, config in zip(axes[0], configs):
        values = [levels[config].get(level, 0) for level in DIFFICULTIES]
        drawn = ax.bar(DIFFICULTIES, values, color=[_LEVEL_COLOURS[level] for level in DIFFICULTIES])
        ax.bar_label(drawn, fontsize=8)
        ax.set_title(config, fontsize=10)
        ax.yaxis.set_major_locator(_integer_ticks())
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("Rows per difficulty level", fontsize=11)
    return _png(fig)


def _histograms(title: str, series: Mapping[str, Sequence[float]], xlabel: str, *, bins: Any = 30,
                clip_tail: bool = False) -> bytes:
    plt = _pyplot()
    shown = {name: values for name, values in series.items() if len(values)}
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown) + 0.4, 2.8), squeeze=False)
    for ax, (name, values), colour in zip(axes[0], shown.items(), (_BLUE, _ORANGE, _GREEN, _BLUE)):
        ordered = sorted(values)
        median = ordered[(len(ordered) - 1) // 2]
        label = f"{name} (median {median:g})"
        if clip_tail:
            # A long tail squeezes the bulk into one bar: the last 1% go into the last bar.
            top = ordered[min(len(ordered) - 1, (len(ordered) * 99) // 100)]
            if top < ordered[-1]:
                values = [min(v, top) for v in values]
                label = f"{name} (median {median:g}; last bar: >= {top:g}, max {ordered[-1]:g})"
        ax.hist(values, bins=bins, color=colour)
        ax.axvline(median, color="#222222", linewidth=1, linestyle="--")
        ax.set_title(label, fontsize=9)
        ax.yaxis.set_major_locator(_integer_ticks())
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title, fontsize=11)
    return _png(fig)


def build_plots(
    levels: Mapping[str, Mapping[str, int]],
    lengths: Mapping[str, Sequence[int]],
    coverage: Mapping[str, Sequence[float]],
    outcomes: Mapping[str, int],
) -> dict[str, tuple[str, bytes]]:
    """``{file name: (title, PNG)}`` for the card, from what the build counted.

    Args:
        levels: rows per difficulty level, per config.
        lengths: characters per prompt / completion (``{"prompt": [...], "completion": [...]}``).
        coverage: per function, share of lines / branches its kept cases run (where measured).
        outcomes: kept cases per outcome (``returned``, ``raised``), per config in the key.
    """
    plots: dict[str, tuple[str, bytes]] = {}
    if any(sum(counts.values()) for counts in levels.values()):
        plots["difficulty.png"] = ("Rows per difficulty level", _difficulty_plot(levels))
    if any(len(values) for values in lengths.values()):
        plots["lengths.png"] = ("Prompt and completion lengths",
                                _histograms("Training samples: characters", lengths, "characters", clip_tail=True))
    if any(len(values) for values in coverage.values()):
        plots["coverage.png"] = ("Coverage of the kept cases",
                                 _histograms("Share of each function's code its cases run", coverage, "share",
                                             bins=[i / 20 for i in range(21)]))
    if outcomes:
        plots["outcomes.png"] = ("Outcome mix", bar_chart("Kept cases per outcome (raw)", dict(outcomes)))
    return plots


def _top(counter: Counter[str], limit: int = 8) -> dict[str, int]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    out = dict(ranked[:limit])
    if len(ranked) > limit:
        out["other"] = sum(value for _, value in ranked[limit:])
    return out


def dataset_plots(
    folder: str | Path, difficulty: Mapping[str, Mapping[str, Mapping[str, int]]], raw_files: Iterable[str]
) -> dict[str, tuple[str, bytes]]:
    """``{file name: (title, PNG)}`` for the card: difficulty per config, and from ``raw`` rows the
    cases per function, the outcome mix and the source corpora (each only if the columns exist).

    Args:
        folder: the dataset folder.
        difficulty: ``{config: {split: {level: rows}}}`` as counted for the manifest.
        raw_files: the ``raw`` config's Parquet files, relative to ``folder``.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    plots: dict[str, tuple[str, bytes]] = {}
    levels: dict[str, int] = {}
    for config, splits in difficulty.items():
        split = "train" if "train" in splits else "test" if "test" in splits else next(iter(splits), None)
        for level in DIFFICULTIES:
            if split is not None and level in splits[split]:
                levels[f"{config} {level}"] = splits[split][level]
    if levels:
        plots["difficulty.png"] = ("Rows per difficulty", bar_chart("Rows per config and difficulty", levels))

    per_function: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for name in sorted(raw_files):
        schema = pq.read_schema(Path(folder) / name)
        columns = [c for c in ("cases", "source") if c in schema.names]
        if not columns:
            continue
        table = pq.read_table(Path(folder) / name, columns=columns)
        if "cases" in columns:
            lengths = pc.list_value_length(table.column("cases")).to_pylist()
            per_function.update(str(n if n is None or n < 12 else "12+") for n in lengths)
            flat = pc.list_flatten(table.column("cases"))
            if "outcome" in [f.name for f in flat.type]:
                outcomes.update(str(v) for v in pc.struct_field(flat, "outcome").to_pylist())
        if "source" in columns and "corpus" in [f.name for f in table.column("source").type]:
            sources.update(str(v) for v in pc.struct_field(table.column("source"), "corpus").to_pylist())
    if per_function:
        ordered = dict(sorted(per_function.items(), key=lambda kv: (kv[0] == "12+", int(kv[0]) if kv[0].isdigit() else 0)))
        plots["cases_per_function.png"] = ("Cases per function", bar_chart("Cases per function (raw)", ordered))
    if outcomes:
        plots["outcomes.png"] = ("Outcome mix", bar_chart("Outcome of each case (raw)", _top(outcomes)))
    if sources:
        plots["sources.png"] = ("Source distribution", bar_chart("Functions per source corpus (raw)", _top(sources)))
    return plots


def plots_section(plots: Mapping[str, tuple[str, bytes]]) -> str:
    """Markdown that shows the plots (PNG files under :data:`PLOTS_DIR`, next to the card)."""
    if not plots:
        return ""
    lines = ["## Plots", ""]
    lines += [f"![{title}]({PLOTS_DIR}/{name})" for name, (title, _) in plots.items()]
    return "\n".join(lines)
