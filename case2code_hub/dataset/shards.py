"""Parquet writing: one split's rows streamed to fixed-setting shards, and the eval config's files
rewritten whole.

:class:`ShardWriter` gathers rows into row groups (converted to Arrow a batch at a time) and writes
``{name}-0000i-of-0000n.parquet`` files byte for byte as writing the whole split at once would.
:func:`write_level_files` writes the eval rows of ``import-official`` and ``calibrate``, one file
per difficulty level. Rows carry level names; the files hold ClassLabel codes
(:func:`~case2code_hub.schema.with_difficulty_codes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import schema

# Parquet settings are fixed so two builds of the same rows are byte-identical.
_ROW_GROUP_ROWS = 10_000
_PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": True, "write_statistics": True}
# Rows turned into Arrow at a time while a row group is gathered.
_BATCH_ROWS = 500


class ShardWriter:
    """Rows of one split, streamed to ``folder/{name}-0000i-of-0000n.parquet``.

    Byte for byte what writing the whole split at once did: a file every ``shard_rows`` rows, in
    row groups of ``row_group_rows`` counted from the file's first row, the config's Arrow schema
    and the fixed writer settings. At most one row group is held in memory. Files are written under
    a provisional name and renamed when :meth:`close` knows how many there are. No row, no file.
    """

    def __init__(
        self,
        folder: Path,
        name: str,
        config: str,
        shard_rows: int,
        *,
        row_group_rows: int = _ROW_GROUP_ROWS,
        batch_rows: int = _BATCH_ROWS,
    ):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa, self._pq = pa, pq
        self.folder, self.name, self.shard_rows = folder, name, shard_rows
        self.row_group_rows, self.batch_rows = row_group_rows, batch_rows
        self.arrow_schema = schema.features(config).arrow_schema
        self.rows = 0
        # Arrow bytes of the rows written: what ``datasets`` records as a split's ``num_bytes``.
        self.nbytes = 0
        self._partials: list[Path] = []
        self._writer: Any = None
        self._in_shard = 0
        # The row group being gathered: rows converted to Arrow ``batch_rows`` at a time (far
        # smaller than the Python dicts), combined into one table when the group is complete.
        self._group_rows = 0
        self._batches: list[Any] = []
        self._pending: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f".{self.name}-{len(self._partials):05d}.partial"
            self._partials.append(path)
            self._writer = self._pq.ParquetWriter(path, self.arrow_schema, **_PARQUET_OPTIONS)
        self._pending.append(row)
        self.rows += 1
        self._in_shard += 1
        self._group_rows += 1
        if len(self._pending) >= self.batch_rows:
            self._convert()
        if self._group_rows >= self.row_group_rows:
            self._flush()
        if self._in_shard >= self.shard_rows:
            self._close_shard()

    def _convert(self) -> None:
        if self._pending:
            rows = [schema.with_difficulty_codes(row) for row in self._pending]
            self._batches.append(self._pa.Table.from_pylist(rows, schema=self.arrow_schema))
            self._pending = []

    def _flush(self) -> None:
        """Write the gathered rows as one row group, from a single-chunk table: the same table
        ``from_pylist`` of all of them gives, so the same pages and bytes."""
        self._convert()
        if self._batches:
            batches, self._batches, self._group_rows = self._batches, [], 0
            table = self._pa.concat_tables(batches).combine_chunks()
            del batches
            self.nbytes += table.nbytes
            self._writer.write_table(table, row_group_size=self.row_group_rows)

    def _close_shard(self) -> None:
        self._flush()
        self._writer.close()
        self._writer = None
        self._in_shard = 0

    def close(self) -> list[Path]:
        """Finish the last file and give every file its final name; the paths, in order."""
        if self._writer is not None:
            self._close_shard()
        n_shards = len(self._partials)
        paths = []
        for shard, partial in enumerate(self._partials):
            path = self.folder / f"{self.name}-{shard:05d}-of-{n_shards:05d}.parquet"
            partial.rename(path)
            paths.append(path)
        return paths

    def abort(self) -> None:
        """Close an open file after a failure (the staging folder holding it is removed next)."""
        self._pending, self._batches = [], []
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - already failing; the folder goes anyway
                pass


def write_level_files(folder: Path, rows: list[dict[str, Any]], arrow_schema: Any) -> dict[str, tuple[int, int]]:
    """One ``{level}-00000-of-00001.parquet`` (zstd) in ``folder`` per difficulty level the rows
    have, in level order, the rows in their given order; ``(rows, Arrow bytes)`` per level written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sizes: dict[str, tuple[int, int]] = {}
    for level in schema.DIFFICULTIES:
        part = [schema.with_difficulty_codes(row) for row in rows if row["difficulty"] == level]
        if part:
            table = pa.Table.from_pylist(part, schema=arrow_schema)
            pq.write_table(table, folder / f"{level}-00000-of-00001.parquet", compression="zstd")
            sizes[level] = (table.num_rows, table.nbytes)
    return sizes
