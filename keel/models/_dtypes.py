"""keel's dtype vocabulary for NumPy arrays and pandas columns, and the safe numeric casts.

The base rule is NumPy's ``can_cast(src, dst, casting="safe")``; on top of it keel allows three
casts that keep every value's meaning, each checked on the values (vectorised):

- integer -> narrower integer, when every value fits (JSON and Python ints arrive as int64);
- float -> narrower float (float64 -> float32), when no finite value overflows: the rounding is
  the one the framework applies itself (torch, ONNX and tree models compute in float32);
- integer -> any float (int64 -> float32 may round integers above 2**24, as the framework would).

Refused, always: bool <-> numbers (bool stays bool), float -> integer (even 1.0: the signature is
a contract, and a value-dependent cast would pass one batch and fail the next; the one exception
is a *nullable* integer column arriving as floats because of its missing values), and strings
<-> numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy
    import pandas

_INFERRED = {
    "string": "string",
    "integer": "int64",
    "floating": "float64",
    "mixed-integer-float": "float64",
    "boolean": "bool",
    "datetime64": "datetime",
    "datetime": "datetime",
    "date": "object",
}


def array_dtype(array: numpy.ndarray) -> str:
    """The vocabulary name of an array's dtype (object arrays are inspected)."""
    kind = array.dtype.kind
    if kind == "b":
        return "bool"
    if kind in "iuf":
        name = str(array.dtype.name)
        return name if name in _NUMERIC else "object"
    if kind in "US":
        return "string"
    if kind == "M":
        return "datetime"
    if kind == "O":
        import pandas as pd

        return _INFERRED.get(pd.api.types.infer_dtype(array.ravel(), skipna=True), "object")
    return "object"


def series_dtype(series: pandas.Series[Any]) -> str:
    """The vocabulary name of a pandas column's dtype (nullable extension types included)."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    if isinstance(dtype, np.dtype):
        if dtype.kind == "O":
            return _INFERRED.get(pd.api.types.infer_dtype(series, skipna=True), "object")
        return array_dtype(np.empty(0, dtype=dtype))
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.BooleanDtype):
        return "bool"
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if isinstance(numpy_dtype, np.dtype):
        return array_dtype(np.empty(0, dtype=numpy_dtype))
    return "object"


_NUMERIC = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64"}
)


def mismatch(
    label: str, column: str | None, expected: str, got: str, why: str = ""
) -> InvalidArgument:
    message = f"{label}: expected {expected}, got {got}"
    if why:
        message += f" ({why})"
    return InvalidArgument(
        message, details={"column": column, "expected": expected, "got": got}
    )


def cast_numeric(
    values: numpy.ndarray, expected: str, *, label: str, column: str | None, shown: str
) -> numpy.ndarray:
    """``values`` as the numeric dtype ``expected`` under the rules in this module's docstring;
    ``shown`` is how the expectation appears in an error (dtype, maybe with a shape)."""
    import numpy as np

    src, dst = values.dtype, np.dtype(expected)
    if src == dst:
        return values
    got = array_dtype(values)
    if src.kind == "b":
        raise mismatch(label, column, shown, got, "bool values are not cast to numbers")
    if src.kind not in "iuf":
        raise mismatch(label, column, shown, got)
    if src.kind == "f" and dst.kind in "iu":
        raise mismatch(label, column, shown, got, "floats are never cast to integers")
    if np.can_cast(src, dst, casting="safe") or (src.kind in "iu" and dst.kind == "f"):
        return values.astype(dst)
    if dst.kind in "iu":  # integer narrowing: every value must fit
        info = np.iinfo(dst)
        if values.size and (values.min() < info.min or values.max() > info.max):
            raise mismatch(
                label, column, shown, got,
                f"values from {values.min()} to {values.max()} do not fit in {dst.name}",
            )
        return values.astype(dst)
    with np.errstate(over="ignore"):  # float narrowing: rounding is fine, overflow is not
        cast = values.astype(dst)
    if values.size and bool(np.any(np.isinf(cast) & np.isfinite(values))):
        raise mismatch(label, column, shown, got, f"values overflow {dst.name}")
    return cast
