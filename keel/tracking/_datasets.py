"""Describe a dataset before versioning it: content digest, schema and a statistics profile.

:func:`describe_dataset` accepts pandas DataFrames and Series, polars DataFrames, pyarrow Tables,
RecordBatches and RecordBatchReaders, NumPy arrays, dicts of columns, and paths to a Parquet
file, a CSV file or a directory of Parquet files. Everything becomes Arrow data; files are read
batch by batch, so memory stays bounded by a batch (CSV files are read whole, because pyarrow
infers CSV types from the whole file only that way). pandas, polars and pyarrow are imported
lazily: importing this module imports none of them.

The digest is the sha256 of the *content*, independent of how the data is laid out:

- Per column, canonical byte streams fed chunk by chunk: the global row positions of nulls
  (int64); for fixed-width types (numbers, decimals, temporal types as their integer
  representation) the value bytes with nulls zero-filled and every float NaN in one canonical
  form; booleans one byte each; strings and binary the lengths (int64) plus the bytes; lists
  the lengths plus the flattened values, hashed the same way; structs each field; other nested
  types (maps, unions) the canonical JSON of each value. Chunk, row-group, batch and buffer
  boundaries, offsets and padding never reach a stream. Bytes are little-endian (the byte
  order of every platform keel supports).
- The final digest combines a format tag, the column names and canonical types in order, the
  row count and the column digests. Types are compared logically: string, large_string and
  string_view are all ``string`` (binary and lists likewise), a dictionary-encoded column is
  its decoded values (a pandas category column digests like its values), and field
  nullability and schema metadata are ignored. Timestamps keep unit and time zone in the type.

So the same data gives the same digest whatever its chunking, Parquet row-group size or source
library, and any change of a value, a null, a column name, column order, a type or row order
gives another. pandas: a default index (a ``RangeIndex`` from 0 with step 1 and no name) is
ignored; any other index (named, shifted, not a range, a MultiIndex) is part of the data,
appended after the columns as pyarrow names it (its name, or ``__index_level_N__``). An unnamed
Series, and a 1-D NumPy array, is one column ``c0``; a 2-D array has columns ``c0, c1, …``; a
structured array has its field names. NumPy NaN stays a float NaN (pandas turns it into null).

The profile has per column ``type``, ``count`` (non-null values), ``nulls`` and
``null_fraction``; numbers (and durations, in their unit) add ``min``, ``max``, ``mean`` and the
*population* standard deviation ``std`` over non-NaN values, floats add ``nans``; strings,
booleans and dictionary-encoded columns add ``distinct`` (exact; None when there are more than
:data:`DISTINCT_CAP` distinct values) and ``top``, the :data:`TOP_VALUES` most frequent
``[value, count]`` pairs, count descending then value ascending (None past the cap);
timestamps and dates add ``min`` and ``max`` as ISO 8601 strings (time-zone-aware ones in UTC,
``+00:00``). Every value is plain JSON: non-finite floats are None.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from keel.errors import InvalidArgument
from keel.tracking.models import DatasetColumn, DatasetDescription

__all__ = ["DISTINCT_CAP", "TOP_VALUES", "canonical_type", "describe_dataset"]

DIGEST_FORMAT = b"keel.dataset.digest/1\n"
DISTINCT_CAP = 100_000
TOP_VALUES = 10
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
    """Digest, columns, profile and row count of ``data``; see the module docstring for the
    rules. ``source`` defaults to the ``file://`` URI of a path. Unsupported or unreadable
    data is an :class:`~keel.errors.InvalidArgument`."""
    schema, chunks, derived_source = _open(data)
    describer = _Describer(schema)
    try:
        for chunk in chunks:
            describer.update(chunk)
    except _read_errors() as exc:
        raise InvalidArgument(f"cannot read the dataset: {exc}") from exc
    return describer.result(source if source is not None else derived_source)


def canonical_type(arrow_type: Any) -> str:
    """The logical type string the digest uses: offset widths, views and dictionary encoding
    erased (``large_string`` → ``string``), everything else as pyarrow prints it."""
    import pyarrow as pa

    t, a = pa.types, arrow_type
    if t.is_dictionary(arrow_type):
        return canonical_type(arrow_type.value_type)
    if isinstance(arrow_type, pa.ExtensionType):
        return str(arrow_type)
    if t.is_string(a) or t.is_large_string(a) or _is(t, "string_view", a):
        return "string"
    if t.is_binary(a) or t.is_large_binary(a) or _is(t, "binary_view", a):
        return "binary"
    if t.is_fixed_size_list(arrow_type):
        return f"fixed_size_list<{canonical_type(arrow_type.value_type)}>[{arrow_type.list_size}]"
    if _is_list(arrow_type):
        return f"list<{canonical_type(arrow_type.value_type)}>"
    if t.is_struct(arrow_type):
        inner = ", ".join(f"{f.name}: {canonical_type(f.type)}" for f in arrow_type)
        return f"struct<{inner}>"
    if t.is_map(arrow_type):
        return f"map<{canonical_type(arrow_type.key_type)}, {canonical_type(arrow_type.item_type)}>"
    return str(arrow_type)


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


# -- types --------------------------------------------------------------------------------------


def _is(types: Any, name: str, arrow_type: Any) -> bool:
    check = getattr(types, f"is_{name}", None)
    return bool(check(arrow_type)) if check is not None else False


def _is_list(arrow_type: Any) -> bool:
    import pyarrow as pa

    t = pa.types
    return bool(
        t.is_list(arrow_type)
        or t.is_large_list(arrow_type)
        or _is(t, "list_view", arrow_type)
        or _is(t, "large_list_view", arrow_type)
        or t.is_fixed_size_list(arrow_type)
    )


def _storage_type(arrow_type: Any) -> Any:
    """The type whose values a column holds: dictionary and extension types unwrapped."""
    import pyarrow as pa

    while True:
        if pa.types.is_dictionary(arrow_type):
            arrow_type = arrow_type.value_type
        elif isinstance(arrow_type, pa.ExtensionType):
            arrow_type = arrow_type.storage_type
        else:
            return arrow_type


def _plain(values: Any) -> Any:
    """``values`` (Array or ChunkedArray) with dictionary and extension wrappers removed and
    string/binary views as large strings/binaries (which every compute kernel takes)."""
    import pyarrow as pa

    while True:
        kind = values.type
        if _is(pa.types, "string_view", kind):
            values = values.cast(pa.large_string())
        elif _is(pa.types, "binary_view", kind):
            values = values.cast(pa.large_binary())
        elif pa.types.is_dictionary(kind):
            values = values.cast(kind.value_type)
        elif isinstance(kind, pa.ExtensionType):
            values = (
                pa.chunked_array([c.storage for c in values.chunks], kind.storage_type)
                if isinstance(values, pa.ChunkedArray)
                else values.storage
            )
        else:
            return values


# -- the digest ---------------------------------------------------------------------------------


class _ColumnHash:
    """The canonical byte streams of one column (or nested child), fed array by array."""

    def __init__(self, arrow_type: Any) -> None:
        import pyarrow as pa

        t = pa.types
        kind = _storage_type(arrow_type)
        self.type = kind
        self.children: list[_ColumnHash] = []
        if t.is_null(kind):
            self.kind = "null"
        elif t.is_boolean(kind):
            self.kind = "bool"
        elif canonical_type(kind) in ("string", "binary"):
            self.kind = "bytes"
        elif _is_list(kind):
            self.kind = "list"
            self.children = [_ColumnHash(kind.value_type)]
        elif t.is_struct(kind):
            self.kind = "struct"
            self.children = [_ColumnHash(f.type) for f in kind]
        elif _fixed_width(kind):
            self.kind = "fixed"
        else:
            self.kind = "json"
        self.rows = 0
        self.nulls = hashlib.sha256()
        self.lengths = hashlib.sha256()
        self.values = hashlib.sha256()

    def update(self, array: Any) -> None:
        import numpy as np

        array = _plain(array)
        n = len(array)
        if n == 0:
            return
        if array.null_count and self.kind not in ("null", "json"):
            invalid = ~array.is_valid().to_numpy(zero_copy_only=False)
            self.nulls.update((np.flatnonzero(invalid) + self.rows).astype("<i8").tobytes())
        getattr(self, "_update_" + self.kind)(array)
        self.rows += n

    def digest(self) -> bytes:
        h = hashlib.sha256(self.kind.encode() + self.rows.to_bytes(8, "little"))
        for stream in (self.nulls, self.lengths, self.values):
            h.update(stream.digest())
        for child in self.children:
            h.update(child.digest())
        return h.digest()

    def _update_null(self, array: Any) -> None:
        pass

    def _update_bool(self, array: Any) -> None:
        import numpy as np

        filled = array.fill_null(False) if array.null_count else array
        self.values.update(np.asarray(filled.to_numpy(zero_copy_only=False), np.uint8).tobytes())

    def _update_bytes(self, array: Any) -> None:
        import numpy as np
        import pyarrow as pa

        text = canonical_type(self.type) == "string"
        array = array.cast(pa.large_string() if text else pa.large_binary())
        if array.null_count:
            array = array.fill_null("" if text else b"")
        offsets_buf, data = array.buffers()[1:3]
        offsets = np.frombuffer(offsets_buf, np.int64, array.offset + len(array) + 1)
        offsets = offsets[array.offset :]
        self.lengths.update(np.diff(offsets).astype("<i8").tobytes())
        start, end = int(offsets[0]), int(offsets[-1])
        if data is not None and end > start:
            self.values.update(memoryview(data)[start:end])

    def _update_fixed(self, array: Any) -> None:
        import numpy as np
        import pyarrow as pa

        width = self.type.bit_width // 8
        buf = array.buffers()[1]
        if buf is None:
            raw = np.zeros(len(array) * width, np.uint8)
        else:
            raw = np.frombuffer(buf, np.uint8, (array.offset + len(array)) * width)
            raw = raw[array.offset * width :]
        if array.null_count:
            raw = raw.reshape(len(array), width).copy()
            raw[~array.is_valid().to_numpy(zero_copy_only=False)] = 0
            raw = raw.reshape(-1)
        if pa.types.is_floating(self.type):
            floats = raw.view(f"<f{width}")
            nan = np.isnan(floats)
            if nan.any():
                raw = np.where(nan, np.array(np.nan, floats.dtype), floats).view(np.uint8)
        self.values.update(np.ascontiguousarray(raw).data)

    def _update_list(self, array: Any) -> None:
        import numpy as np
        import pyarrow.compute as pc

        lengths = pc.list_value_length(array).fill_null(0)
        self.lengths.update(np.asarray(lengths.to_numpy(), "<i8").tobytes())
        self.children[0].update(array.flatten())

    def _update_struct(self, array: Any) -> None:
        for child, values in zip(self.children, array.flatten(), strict=True):
            child.update(values)

    def _update_json(self, array: Any) -> None:
        texts = [
            json.dumps(
                v, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
            ).encode()
            for v in array.to_pylist()
        ]
        for text in texts:
            self.lengths.update(len(text).to_bytes(8, "little"))
            self.values.update(text)


def _fixed_width(arrow_type: Any) -> bool:
    try:
        width = int(arrow_type.bit_width)
    except (ValueError, TypeError, AttributeError):
        return False
    return width > 0 and width % 8 == 0


def _json_default(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)
    return repr(value)


# -- the profile --------------------------------------------------------------------------------


class _ColumnProfile:
    """Streaming statistics of one column: moments, extremes and value frequencies."""

    def __init__(self, arrow_type: Any) -> None:
        import pyarrow as pa

        t = pa.types
        kind = _storage_type(arrow_type)
        self.type = kind
        self.type_name = canonical_type(arrow_type)
        self.numeric = (
            t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind) or t.is_duration(kind)
        )
        self.temporal = t.is_timestamp(kind) or t.is_date(kind)
        self.counted = (
            t.is_dictionary(arrow_type) or t.is_boolean(kind) or self.type_name == "string"
        )
        self.rows = self.nulls = self.nans = 0
        self.n = 0
        self.mean = self.m2 = 0.0
        self.min: Any = None
        self.max: Any = None
        self.freq: Any = None
        self.over_cap = False

    def update(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        values = _plain(values)
        self.rows += len(values)
        self.nulls += values.null_count
        if self.counted:
            self._count_values(values)
        if self.temporal:
            self._extremes(values.cast(pa.int64() if self.type.bit_width == 64 else pa.int32()))
        elif self.numeric:
            if pa.types.is_duration(self.type):
                values = values.cast(pa.int64())
            elif pa.types.is_floating(self.type):
                values = values.cast(pa.float64())
                nan = pc.is_nan(values)
                nans = pc.sum(nan).as_py() or 0
                if nans:
                    self.nans += nans
                    values = values.filter(pc.invert(nan))
            self._moments(values)

    def _extremes(self, values: Any) -> None:
        import pyarrow.compute as pc

        found = pc.min_max(values)
        lo, hi = found["min"].as_py(), found["max"].as_py()
        if lo is not None:
            self.min = lo if self.min is None else min(self.min, lo)
            self.max = hi if self.max is None else max(self.max, hi)

    def _moments(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = pc.count(values).as_py()
        if not n:
            return
        self._extremes(values)
        floats = values.cast(pa.float64(), safe=False)
        mean = pc.mean(floats).as_py()
        m2 = pc.variance(floats, ddof=0).as_py() * n
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    def _count_values(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.over_cap:
            return
        counts = pc.value_counts(values)
        found = pa.table({"v": counts.field("values"), "n": counts.field("counts")})
        found = found.filter(pc.is_valid(found["v"]))
        if self.freq is not None:
            merged = pa.concat_tables([self.freq, found]).group_by("v").aggregate([("n", "sum")])
            found = pa.table({"v": merged["v"], "n": merged["n_sum"]})
        if found.num_rows > DISTINCT_CAP:
            self.over_cap, self.freq = True, None
        else:
            self.freq = found

    def result(self) -> dict[str, Any]:
        count = self.rows - self.nulls
        out: dict[str, Any] = {
            "type": self.type_name,
            "count": count,
            "nulls": self.nulls,
            "null_fraction": self.nulls / self.rows if self.rows else 0.0,
        }
        if self.numeric:
            out["min"], out["max"] = _json_value(self.min), _json_value(self.max)
            out["mean"] = _json_value(self.mean) if self.n else None
            out["std"] = _json_value(math.sqrt(self.m2 / self.n)) if self.n else None
            if self.type_name in ("halffloat", "float", "double"):
                out["nans"] = self.nans
        if self.temporal:
            out["min"], out["max"] = _iso(self.min, self.type), _iso(self.max, self.type)
        if self.counted:
            out["distinct"], out["top"] = self._top()
        return out

    def _top(self) -> tuple[int | None, list[list[Any]] | None]:
        if self.over_cap:
            return None, None
        if self.freq is None:
            return 0, []
        ranked = self.freq.sort_by([("n", "descending"), ("v", "ascending")])
        head = ranked.slice(0, TOP_VALUES).to_pylist()
        return self.freq.num_rows, [[_json_value(r["v"]), r["n"]] for r in head]


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal):
        return _json_value(float(value))
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        return str(value)
    return value


def _iso(value: int | None, arrow_type: Any) -> str | None:
    import numpy as np
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_date32(arrow_type):
        return str(np.datetime64(value, "D"))
    if pa.types.is_date64(arrow_type):
        return str(np.datetime64(value, "ms").astype("datetime64[D]"))
    text = str(np.datetime_as_string(np.datetime64(value, arrow_type.unit)))
    return text + "+00:00" if arrow_type.tz is not None else text


# -- putting it together ------------------------------------------------------------------------


class _Describer:
    def __init__(self, schema: Any) -> None:
        names = list(schema.names)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidArgument(
                f"column names must be unique; repeated: {', '.join(map(repr, duplicates))}"
            )
        self.fields = list(schema)
        self.hashes = [_ColumnHash(f.type) for f in self.fields]
        self.profiles = [_ColumnProfile(f.type) for f in self.fields]
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
        header = json.dumps(
            {"columns": [[c.name, c.type] for c in columns], "num_rows": self.num_rows},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        digest = hashlib.sha256(DIGEST_FORMAT)
        digest.update(len(header).to_bytes(8, "little") + header)
        for hasher in self.hashes:
            digest.update(hasher.digest())
        return DatasetDescription(
            digest=digest.hexdigest(),
            num_rows=self.num_rows,
            columns=columns,
            profile={f.name: p.result() for f, p in zip(self.fields, self.profiles, strict=True)},
            source=source,
        )
