"""The statistics profile of a dataset column, computed streaming, chunk by chunk.

The profile has per column ``type``, ``count`` (non-null values), ``nulls`` and
``null_fraction``; numbers (and durations, in their unit) add ``min``, ``max``, ``mean`` and the
*population* standard deviation ``std`` over non-NaN values, floats add ``nans``; strings,
booleans and dictionary-encoded columns add ``distinct`` (exact; None when there are more than
``distinct_cap`` distinct values) and ``top``, the ``top_values`` most frequent ``[value, count]``
pairs, count descending then value ascending (None past the cap); timestamps and dates add
``min`` and ``max`` as ISO 8601 strings (time-zone-aware ones in UTC, ``+00:00``). Every value
is plain JSON: non-finite floats are None. :func:`keel.tracking._datasets.describe_dataset`
passes :data:`~keel.tracking._datasets.DISTINCT_CAP` and
:data:`~keel.tracking._datasets.TOP_VALUES` as the cap and the number of top values.

numpy and pyarrow are imported lazily: importing this module imports no dataframe library.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

from keel.tracking._dataset_types import canonical_type, plain, storage_type

__all__ = ["ColumnProfile"]


class ColumnProfile:
    """Streaming statistics of one column: moments, extremes and value frequencies."""

    def __init__(self, arrow_type: Any, *, distinct_cap: int, top_values: int) -> None:
        import pyarrow as pa

        t = pa.types
        kind = storage_type(arrow_type)
        self.type = kind
        self.type_name = canonical_type(arrow_type)
        self.distinct_cap = distinct_cap
        self.top_values = top_values
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

        values = plain(values)
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
        if found.num_rows > self.distinct_cap:
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
        head = ranked.slice(0, self.top_values).to_pylist()
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
