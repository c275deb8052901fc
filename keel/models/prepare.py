"""Input preparation: check what ``predict`` was given against the model's signature.

:func:`prepare_input` accepts every input kind listed in :mod:`keel.models._frames` and returns
what the flavor passes to the framework:

- ``columns`` signature: a pandas DataFrame holding the signature's columns in its order; extra
  columns are dropped, optional columns may be absent (they are then left out), a missing
  required column, a dtype that cannot be cast safely, or missing values in a non-nullable
  column raise :class:`~keel.errors.InvalidArgument` naming the column and what was expected;
- ``tensor`` signature: a NumPy array (a dict of arrays for several named tensors) of the
  signature's dtype whose shape matches (``-1`` matches any size; one sample without the batch
  dimension gets it added);
- no signature: frames as pandas, lists of rows as arrays, anything else untouched.

The casts allowed are described in :mod:`keel.models._dtypes`: NumPy's ``safe`` casts, integer
and float narrowing when every value fits, int -> float. Strings never become numbers, numbers
never become strings, bool stays bool. Every check works on whole columns (vectorised).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument
from keel.models import _frames
from keel.models._dtypes import array_dtype, cast_numeric, mismatch, series_dtype
from keel.models.signature import FLOAT_DTYPES, INTEGER_DTYPES, NUMERIC_DTYPES, ColumnSpec

if TYPE_CHECKING:
    import numpy
    import pandas

    from keel.models.signature import Signature

__all__ = ["prepare_input"]


def prepare_input(signature: Signature | None, data: Any) -> Any:
    """``data`` checked against ``signature`` and cast (see the module docstring)."""
    if signature is None:
        return _frames.unsigned(data)
    if signature.kind == "tensor":
        return _prepare_tensors(signature, data)
    return _prepare_columns(signature, data)


# -- columns ---------------------------------------------------------------------------------


def _prepare_columns(signature: Signature, data: Any) -> pandas.DataFrame:
    import pandas as pd

    ordered = [c for c in signature.inputs if not c.optional] + [
        c for c in signature.inputs if c.optional
    ]
    frame = _frames.as_frame(
        data,
        names=[str(c.name) for c in ordered],
        what="input",
        required=sum(1 for c in ordered if not c.optional),
    )
    if frame is None:
        raise InvalidArgument(
            f"predict takes {_frames.ACCEPTED}; got {type(data).__name__}",
            details={"type": type(data).__name__},
        )
    present: dict[str, Any] = {}
    for column in frame.columns:
        key = str(column)
        if key in present:
            raise InvalidArgument(
                f"the input has column {key!r} twice", details={"column": key}
            )
        present[key] = column
    missing = [c for c in signature.inputs if c.name not in present and not c.optional]
    if missing:
        listed = ", ".join(f"{c.name!r} ({c.describe()})" for c in missing)
        raise InvalidArgument(
            f"missing column{'s' if len(missing) > 1 else ''} {listed}",
            details={
                "column": missing[0].name,
                "expected": missing[0].describe(),
                "missing": [c.name for c in missing],
            },
        )
    out: dict[str, Any] = {}
    unchanged = True
    for spec in signature.inputs:
        if spec.name not in present:
            continue
        series = frame[present[spec.name]]
        coerced = coerce_series(spec, series)
        unchanged = unchanged and coerced is series and present[spec.name] == spec.name
        out[str(spec.name)] = coerced
    if unchanged and list(frame.columns) == list(out):
        return frame
    return pd.DataFrame(out, index=frame.index)


def _nulls(series: pandas.Series[Any]) -> int:
    return int(series.isna().sum())


def _refuse_nulls(spec: ColumnSpec, count: int) -> InvalidArgument:
    return InvalidArgument(
        f"{spec.label}: {count} missing value{'s' if count > 1 else ''}, but the column "
        f"({spec.describe()}) is not nullable",
        details={"column": spec.name, "expected": spec.describe(), "nulls": count},
    )


def coerce_series(spec: ColumnSpec, series: pandas.Series[Any]) -> pandas.Series[Any]:
    """One column as ``spec`` says, or an InvalidArgument naming it."""
    import numpy as np
    import pandas as pd

    expected = spec.dtype
    if expected == "object":
        return series
    got = series_dtype(series)
    shown = spec.describe()
    if got == "object" and len(series) and bool(series.isna().all()):
        return _all_missing(spec, series)
    if expected in ("string", "datetime", "category", "bool"):
        if got != expected and not (expected == "category" and got == "string"):
            raise mismatch(spec.label, spec.name, shown, got)
        nulls = _nulls(series) if not spec.nullable else 0
        if nulls:
            raise _refuse_nulls(spec, nulls)
        if expected == "category" and got == "string":
            return series.astype("category")
        if expected == "bool" and series.dtype != np.dtype(bool):
            return series.astype("boolean" if spec.nullable else bool)
        return series
    if got not in NUMERIC_DTYPES:
        why = "strings are never cast to numbers" if got == "string" else ""
        if got == "bool":
            why = "bool values are not cast to numbers"
        raise mismatch(spec.label, spec.name, shown, got, why)
    nulls = _nulls(series) if got not in FLOAT_DTYPES or expected in INTEGER_DTYPES else 0
    if nulls and expected in INTEGER_DTYPES:
        return _nullable_integers(spec, series, got, nulls)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind != "O":
        values = series.to_numpy()
    elif got in FLOAT_DTYPES or nulls:  # extension or object column: NaN marks missing
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = series.to_numpy(dtype=np.dtype(got))
    cast = cast_numeric(values, expected, label=spec.label, column=spec.name, shown=shown)
    if cast is values and series.dtype == cast.dtype:
        return series
    return pd.Series(cast, index=series.index, name=series.name)


def _all_missing(spec: ColumnSpec, series: pandas.Series[Any]) -> pandas.Series[Any]:
    """A column of nothing but missing values, typed as the spec says when it may be missing."""
    import numpy as np
    import pandas as pd

    if spec.dtype in FLOAT_DTYPES:
        return pd.Series(np.full(len(series), np.nan, dtype=spec.dtype), index=series.index,
                         name=series.name)
    if not spec.nullable:
        raise _refuse_nulls(spec, len(series))
    pandas_dtype = {"bool": "boolean", "string": "string", "datetime": "datetime64[ns]",
                    "category": "category"}.get(spec.dtype)
    if pandas_dtype is None:  # an integer dtype: pandas' nullable integers
        pandas_dtype = spec.dtype.replace("uint", "UInt").replace("int", "Int")
    return series.astype(pd.api.types.pandas_dtype(pandas_dtype))


def _nullable_integers(
    spec: ColumnSpec, series: pandas.Series[Any], got: str, nulls: int
) -> pandas.Series[Any]:
    """An integer column with missing values: allowed only when the spec is nullable; the
    result is pandas' nullable integer dtype of the expected width."""
    import numpy as np
    import pandas as pd

    if not spec.nullable:
        raise _refuse_nulls(spec, nulls)
    mask = series.isna().to_numpy()
    present = series[~mask]
    values = present.to_numpy(dtype=np.float64 if got in FLOAT_DTYPES else np.dtype(got))
    if got in FLOAT_DTYPES:
        if not bool(np.all(np.mod(values, 1) == 0)):
            raise mismatch(
                spec.label, spec.name, spec.describe(), got, "floats are never cast to integers"
            )
        values = values.astype(np.int64)
    cast = cast_numeric(values, spec.dtype, label=spec.label, column=spec.name,
                        shown=spec.describe())
    full = np.zeros(len(series), dtype=cast.dtype)
    full[~mask] = cast
    nullable = pd.arrays.IntegerArray(full, mask)
    return pd.Series(nullable, index=series.index, name=series.name)


# -- tensors ---------------------------------------------------------------------------------


def _prepare_tensors(signature: Signature, data: Any) -> Any:
    if len(signature.inputs) == 1:
        spec = signature.inputs[0]
        array = _frames.as_array(data, name=spec.name, what="input")
        return coerce_array(spec, array)
    if not isinstance(data, Mapping):
        raise InvalidArgument(
            f"this model takes several named tensors ({', '.join(signature.input_names)}); "
            "pass a dict of arrays",
            details={"expected": signature.input_names},
        )
    missing = [c for c in signature.inputs if c.name not in data and not c.optional]
    if missing:
        listed = ", ".join(f"{c.name!r} ({c.describe()})" for c in missing)
        raise InvalidArgument(
            f"missing tensor{'s' if len(missing) > 1 else ''} {listed}",
            details={"column": missing[0].name, "expected": missing[0].describe()},
        )
    return {
        str(c.name): coerce_array(c, _frames.as_array(data[c.name], name=c.name, what=c.label))
        for c in signature.inputs
        if c.name in data
    }


def coerce_array(spec: ColumnSpec, array: numpy.ndarray) -> numpy.ndarray:
    """One tensor as ``spec`` says: dtype cast safely, shape checked."""
    import numpy as np

    shown = spec.describe()
    if spec.dtype != "object":
        got = array_dtype(array)
        if array.dtype.kind == "O" and got in NUMERIC_DTYPES | {"bool"}:
            array = array.astype(got)
        if spec.dtype in NUMERIC_DTYPES:
            if got not in NUMERIC_DTYPES:
                why = "strings are never cast to numbers" if got == "string" else ""
                raise mismatch(spec.label, spec.name, shown, got, why)
            array = cast_numeric(array, spec.dtype, label=spec.label, column=spec.name,
                                 shown=shown)
        elif got != spec.dtype:
            raise mismatch(spec.label, spec.name, shown, got)
    shape = spec.shape
    if shape is None:
        return array
    if array.ndim == len(shape) - 1 and shape and shape[0] == -1 and _fits(array.shape, shape[1:]):
        array = np.expand_dims(array, 0)
    if array.ndim != len(shape) or not _fits(array.shape, shape):
        raise InvalidArgument(
            f"{spec.label}: expected shape {_shape(shape)}, got {_shape(array.shape)}",
            details={"column": spec.name, "expected": list(shape), "got": list(array.shape)},
        )
    return array


def _fits(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return len(actual) == len(expected) and all(
        e == -1 or a == e for a, e in zip(actual, expected, strict=True)
    )


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
