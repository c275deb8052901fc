"""Describe a dataset before versioning it: content digest, schema and a statistics profile.

:func:`describe_dataset` is the entry point. It accepts pandas DataFrames and Series, polars
DataFrames, pyarrow Tables, RecordBatches and RecordBatchReaders, NumPy arrays, dicts of columns,
and paths to a Parquet file, a CSV file or a directory of Parquet files. This module turns each of
them into Arrow data; files are read batch by batch, so memory stays bounded by a batch (CSV
files are read whole, because pyarrow infers CSV types from the whole file only that way).
pandas, polars and pyarrow are imported lazily: importing this module imports none of them.

How inputs become columns: pandas: a default index (a ``RangeIndex`` from 0 with step 1 and no
name) is ignored; any other index (named, shifted, not a range, a MultiIndex) is part of the
data, appended after the columns as pyarrow names it (its name, or ``__index_level_N__``). An
unnamed Series, and a 1-D NumPy array, is one column ``c0``; a 2-D array has columns ``c0, c1,
…``; a structured array has its field names. NumPy NaN stays a float NaN (pandas turns it into
null).

The digest rules live in :mod:`keel.tracking._dataset_digest`, the profile in
:mod:`keel.tracking._dataset_profile` (which gets :data:`DISTINCT_CAP` and :data:`TOP_VALUES`
from here), and the logical type names in :mod:`keel.tracking._dataset_types`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from keel.errors import InvalidArgument
from keel.tracking._dataset_digest import ColumnHash, dataset_digest
from keel.tracking._dataset_profile import ColumnProfile
from keel.tracking._dataset_types import canonical_type
from keel.tracking.models import DatasetColumn, DatasetDescription

__all__ = ["DISTINCT_CAP", "TOP_VALUES", "canonical_type", "describe_dataset"]

DISTINCT_CAP = 100_000
"""Past this many distinct values a profile reports ``distinct`` and ``top`` as None."""
TOP_VALUES = 10
"""How many ``[value, count]`` pairs a profile's ``top`` lists."""
BATCH_ROWS = 65_536
SUPPORTED = (
    "pandas.DataFrame, pandas.Series, polars.DataFrame, pyarrow.Table, pyarrow.RecordBatch, "
    "pyarrow.RecordBatchReader, numpy.ndarray (1-D, 2-D or structured), a dict of columns, "
    "or a path (str or Path) to a Parquet file, a CSV file or a directory of Parquet files"
)
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".tsv")
COMPRESSION_SUFFIXES = ("", ".gz", ".bz2", ".zst", ".lz4")


def describe_dataset(data: object, *, source: str | None = None) -> DatasetDescription:
    """Digest, columns, profile and row count of ``data``; see the module docstrings of this
    module, :mod:`keel.tracking._dataset_digest` and :mod:`keel.tracking._dataset_profile` for
    the rules. ``source`` defaults to the ``file://`` URI of a path. Unsupported or unreadable
    data is an :class:`~keel.errors.InvalidArgument`."""
    schema, chunks, derived_source = _open(data)
    describer = _Describer(schema)
    try:
        for chunk in chunks:
            describer.update(chunk)
    except _read_errors() as exc:
        raise InvalidArgument(f"cannot read the dataset: {exc}") from exc
    return describer.result(source if source is not None else derived_source)


# -- inputs -----------------------------------------------------------------------------------


def _arrow_errors() -> tuple[type[Exception], ...]:
    """What converting foreign data raises when the data (not keel) is at fault."""
    import pyarrow as pa

    return (pa.ArrowException, TypeError, ValueError, OverflowError)


def _read_errors() -> tuple[type[Exception], ...]:
    """What reading a file raises when the file (not keel) is at fault."""
    import pyarrow as pa

    return (pa.ArrowException, OSError)


def _open(data: object) -> tuple[Any, Iterable[Any], str | None]:
    """(schema, tables or record batches, source) for any supported input."""
    if isinstance(data, str | os.PathLike):
        text = os.fspath(data)
        if not text:
            raise InvalidArgument("the dataset path is empty")
        return _open_path(Path(text).expanduser())
    pa = sys.modules.get("pyarrow")
    if pa is not None and isinstance(data, pa.RecordBatchReader):
        return data.schema, data, None
    try:
        table = _to_table(data)
    except _arrow_errors() as exc:
        raise InvalidArgument(
            f"cannot convert {type(data).__name__} to an Arrow table: {exc}"
        ) from exc
    return table.schema, [table], None


def _to_table(data: object) -> Any:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, pd.Series):
        data = data.to_frame(name="c0" if data.name is None else str(data.name))
    if pd is not None and isinstance(data, pd.DataFrame):
        index = data.index
        default = (
            isinstance(index, pd.RangeIndex)
            and index.start == 0
            and index.step == 1
            and index.name is None
        )
        return pa.Table.from_pandas(data, preserve_index=not default)
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(data, pl.DataFrame):
        return data.to_arrow()
    np = sys.modules.get("numpy")
    if np is not None and isinstance(data, np.ndarray):
        return _from_numpy(data)
    if isinstance(data, Mapping):
        bad = [k for k in data if not isinstance(k, str)]
        if bad:
            raise InvalidArgument(f"column names must be strings, got {bad[0]!r}")
        return pa.table(dict(data))
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data).read_all()
    raise InvalidArgument(
        f"cannot describe a {type(data).__module__}.{type(data).__qualname__}; "
        f"supported: {SUPPORTED}",
        details={"type": type(data).__qualname__},
    )


def _from_numpy(array: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    if array.dtype.names:
        if array.ndim != 1:
            raise InvalidArgument(f"a structured array must be 1-D, got {array.ndim}-D")
        return pa.table({n: np.ascontiguousarray(array[n]) for n in array.dtype.names})
    if array.ndim == 1:
        return pa.table({"c0": array})
    if array.ndim == 2:
        return pa.table({f"c{i}": np.ascontiguousarray(array[:, i]) for i in range(array.shape[1])})
    raise InvalidArgument(f"a NumPy array must be 1-D or 2-D, got {array.ndim}-D")


def _open_path(path: Path) -> tuple[Any, Iterable[Any], str | None]:
    if not path.exists():
        raise InvalidArgument(f"no such file or directory: {path}", details={"path": str(path)})
    path = path.resolve()
    source = path.as_uri()
    try:
        if path.is_dir():
            return (*_open_parquet_dir(path), source)
        name = path.name.lower()
        if name.endswith(PARQUET_SUFFIXES) or _has_parquet_magic(path):
            return (*_open_parquet_file(path), source)
        if any(name.endswith(s + c) for s in CSV_SUFFIXES for c in COMPRESSION_SUFFIXES):
            import pyarrow.csv as pcsv

            delimiter = "\t" if ".tsv" in name else ","
            table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
            return table.schema, [table], source
    except _read_errors() as exc:
        raise InvalidArgument(f"cannot read {path}: {exc}", details={"path": str(path)}) from exc
    raise InvalidArgument(
        f"unsupported file type: {path}; expected Parquet ({', '.join(PARQUET_SUFFIXES)}), "
        f"CSV ({', '.join(CSV_SUFFIXES)}, optionally compressed) or a directory of Parquet files",
        details={"path": str(path)},
    )


def _has_parquet_magic(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PAR1"


def _open_parquet_file(path: Path) -> tuple[Any, Iterator[Any]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)

    def batches() -> Iterator[Any]:
        with parquet:
            yield from parquet.iter_batches(batch_size=BATCH_ROWS)

    return parquet.schema_arrow, batches()


def _open_parquet_dir(root: Path) -> tuple[Any, Iterator[Any]]:
    """Parquet files under ``root`` in order of relative path, skipping names starting with
    ``.`` or ``_``; hive partition directories (``key=value``) become columns."""
    import pyarrow.dataset as ds

    files = sorted(
        (p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES)),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    files = [p for p in files if not any(part[0] in "._" for part in p.relative_to(root).parts)]
    if not files:
        raise InvalidArgument(f"no Parquet files in directory {root}", details={"path": str(root)})
    dataset = ds.dataset(
        [str(p) for p in files],
        format="parquet",
        partitioning="hive",
        partition_base_dir=str(root),
    )
    first = None
    for fragment in dataset.get_fragments():
        schema = fragment.physical_schema
        if first is None:
            first = schema
        elif not schema.equals(first, check_metadata=False):
            raise InvalidArgument(
                f"Parquet files in {root} have different schemas: {fragment.path} differs from "
                f"{files[0]}",
                details={"path": fragment.path},
            )
    batches = dataset.to_batches(batch_size=BATCH_ROWS, batch_readahead=2, fragment_readahead=1)
    return dataset.schema, iter(batches)


# -- putting it together ------------------------------------------------------------------------


class _Describer:
    """Feeds every chunk to one digest and one profile per column, then combines them."""

    def __init__(self, schema: Any) -> None:
        names = list(schema.names)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidArgument(
                f"column names must be unique; repeated: {', '.join(map(repr, duplicates))}"
            )
        self.fields = list(schema)
        self.hashes = [ColumnHash(f.type) for f in self.fields]
        self.profiles = [
            ColumnProfile(f.type, distinct_cap=DISTINCT_CAP, top_values=TOP_VALUES)
            for f in self.fields
        ]
        self.num_rows = 0

    def update(self, chunk: Any) -> None:
        """Feed a Table or RecordBatch with this schema."""
        for i, (hasher, profile) in enumerate(zip(self.hashes, self.profiles, strict=True)):
            column = chunk.column(i)
            for array in getattr(column, "chunks", [column]):
                hasher.update(array)
            profile.update(column)
        self.num_rows += chunk.num_rows

    def result(self, source: str | None) -> DatasetDescription:
        columns = [
            DatasetColumn(f.name, canonical_type(f.type), bool(f.nullable)) for f in self.fields
        ]
        return DatasetDescription(
            digest=dataset_digest(columns, self.num_rows, self.hashes),
            num_rows=self.num_rows,
            columns=columns,
            profile={f.name: p.result() for f, p in zip(self.fields, self.profiles, strict=True)},
            source=source,
        )
