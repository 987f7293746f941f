"""The card's plots as PNG bar charts, drawn without matplotlib (pixels, a 3x5 font and zlib).

Deterministic: the same counts give byte-identical PNGs, so a re-published version whose data did
not change re-uses its plots. :func:`dataset_plots` reads only the columns a plot needs.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

from ..schema import DIFFICULTIES

# 3x5 glyphs, five rows of three cells, "#" = ink. Lower case is drawn as upper case.
_GLYPHS = {
    "0": ".#. #.# #.# #.# .#.", "1": ".#. ##. .#. .#. ###", "2": "##. ..# .#. #.. ###", "3": "##. ..# .#. ..# ##.",
    "4": "#.# #.# ### ..# ..#", "5": "### #.. ##. ..# ##.", "6": ".## #.. ### #.# ###", "7": "### ..# .#. .#. .#.",
    "8": "### #.# ### #.# ###", "9": "### #.# ### ..# ##.", "A": ".#. #.# ### #.# #.#", "B": "##. #.# ##. #.# ##.",
    "C": ".## #.. #.. #.. .##", "D": "##. #.# #.# #.# ##.", "E": "### #.. ##. #.. ###", "F": "### #.. ##. #.. #..",
    "G": ".## #.. #.# #.# .##", "H": "#.# #.# ### #.# #.#", "I": "### .#. .#. .#. ###", "J": "..# ..# ..# #.# .#.",
    "K": "#.# #.# ##. #.# #.#", "L": "#.. #.. #.. #.. ###", "M": "#.# ### ### #.# #.#", "N": "##. #.# #.# #.# #.#",
    "O": ".#. #.# #.# #.# .#.", "P": "##. #.# ##. #.. #..", "Q": ".#. #.# #.# ##. .##", "R": "##. #.# ##. #.# #.#",
    "S": ".## #.. .#. ..# ##.", "T": "### .#. .#. .#. .#.", "U": "#.# #.# #.# #.# ###", "V": "#.# #.# #.# #.# .#.",
    "W": "#.# #.# ### ### #.#", "X": "#.# #.# .#. #.# #.#", "Y": "#.# #.# .#. .#. .#.", "Z": "### ..# .#. #.. ###",
    "-": "... ... ### ... ...", "+": "... .#. ### .#. ...", ".": "... ... ... ... .#.", "/": "..# ..# .#. #.. #..",
    "_": "... ... ... ... ###", ":": "... .#. ... .#. ...", "%": "#.# ..# .#. #.. #.#", " ": "... ... ... ... ...",
    "<": "..# .#. #.. .#. ..#", ">": "#.. .#. ..# .#. #..", "(": ".#. #.. #.. #.. .#.", ")": ".#. ..# ..# ..# .#.",
}
_INK, _BAR, _PAPER, _GRID = (33, 37, 41), (52, 120, 198), (255, 255, 255), (225, 228, 232)


class _Canvas:
    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.pixels = bytearray(_PAPER * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: tuple[int, int, int]) -> None:
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, self.width), min(y + h, self.height)
        row = bytes(color) * max(x1 - x0, 0)
        for yy in range(y0, y1):
            start = (yy * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, *, scale: int = 2, color: tuple[int, int, int] = _INK) -> None:
        for index, char in enumerate(text.upper()):
            glyph = _GLYPHS.get(char, _GLYPHS["_"]).replace(" ", "")
            for cell, mark in enumerate(glyph):
                if mark == "#":
                    self.rect(x + index * 4 * scale + (cell % 3) * scale, y + (cell // 3) * scale, scale, scale, color)

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height))

        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def text_width(text: str, scale: int = 2) -> int:
    return len(text) * 4 * scale


def bar_chart(title: str, bars: Mapping[str, int], *, width: int = 560, height: int = 280) -> bytes:
    """A PNG bar chart: one bar per label, its value above it, the title on top."""
    canvas = _Canvas(width, height)
    canvas.text(12, 10, title[: (width - 24) // 8])
    top, bottom, left = 44, height - 30, 12
    for fraction in (0.25, 0.5, 0.75, 1.0):
        canvas.rect(left, bottom - int((bottom - top) * fraction), width - 2 * left, 1, _GRID)
    canvas.rect(left, bottom, width - 2 * left, 2, _INK)
    items = list(bars.items())
    if not items:
        return canvas.png()
    slot = (width - 2 * left) // len(items)
    peak = max(max(value for _, value in items), 1)
    for index, (label, value) in enumerate(items):
        bar_height = int((bottom - top - 16) * value / peak)
        x = left + index * slot + slot // 6
        canvas.rect(x, bottom - bar_height, max(slot * 2 // 3, 1), bar_height, _BAR)
        number = str(value)
        canvas.text(x + (slot * 2 // 3 - text_width(number, 1)) // 2, bottom - bar_height - 8, number, scale=1)
        name = label[: max(slot // 8, 1)]
        canvas.text(left + index * slot + (slot - text_width(name)) // 2, bottom + 8, name)
    return canvas.png()


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
