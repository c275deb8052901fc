"""The content digest of a dataset: a sha256 of its values, independent of how they are laid out.

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
gives another. numpy and pyarrow are imported lazily: importing this module imports no
dataframe library.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from keel.tracking._dataset_types import canonical_type, is_list, plain, storage_type
from keel.tracking.models import DatasetColumn

__all__ = ["DIGEST_FORMAT", "ColumnHash", "dataset_digest"]

DIGEST_FORMAT = b"keel.dataset.digest/1\n"


def dataset_digest(
    columns: Sequence[DatasetColumn], num_rows: int, hashes: Iterable[ColumnHash]
) -> str:
    """The hex digest of a whole dataset from its columns, row count and column hashes."""
    header = json.dumps(
        {"columns": [[c.name, c.type] for c in columns], "num_rows": num_rows},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    digest = hashlib.sha256(DIGEST_FORMAT)
    digest.update(len(header).to_bytes(8, "little") + header)
    for hasher in hashes:
        digest.update(hasher.digest())
    return digest.hexdigest()


class ColumnHash:
    """The canonical byte streams of one column (or nested child), fed array by array."""

    def __init__(self, arrow_type: Any) -> None:
        import pyarrow as pa

        t = pa.types
        kind = storage_type(arrow_type)
        self.type = kind
        self.children: list[ColumnHash] = []
        if t.is_null(kind):
            self.kind = "null"
        elif t.is_boolean(kind):
            self.kind = "bool"
        elif canonical_type(kind) in ("string", "binary"):
            self.kind = "bytes"
        elif is_list(kind):
            self.kind = "list"
            self.children = [ColumnHash(kind.value_type)]
        elif t.is_struct(kind):
            self.kind = "struct"
            self.children = [ColumnHash(f.type) for f in kind]
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

        array = plain(array)
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
