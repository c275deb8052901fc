"""Every input kind ``predict`` accepts, turned into a pandas DataFrame or a NumPy array.

Accepted: pandas DataFrames and Series, polars DataFrames, Arrow tables, dicts of columns (or one
record as a dict of scalars), lists of records, lists of rows, NumPy arrays (plain or
structured) and torch tensors. Columns are converted whole; nothing loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy
    import pandas

ACCEPTED = (
    "a pandas or polars DataFrame, a dict of columns, a list of records or a NumPy array"
)


def _top_module(value: object) -> str:
    return type(value).__module__.partition(".")[0]


def _is_polars_frame(value: object) -> bool:
    return _top_module(value) == "polars" and type(value).__name__ == "DataFrame"


def _is_arrow_table(value: object) -> bool:
    return _top_module(value) == "pyarrow" and type(value).__name__ in ("Table", "RecordBatch")


def _is_torch_tensor(value: object) -> bool:
    return _top_module(value) == "torch" and hasattr(value, "detach")


def _is_scalar(value: object) -> bool:
    import numpy as np

    return value is None or isinstance(value, str | bytes | int | float | bool | np.generic)


def as_tensor_like(value: Any) -> numpy.ndarray | dict[str, numpy.ndarray] | None:
    """``value`` as an array (or named arrays) when it is shaped data rather than columns."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return None if value.dtype.names else value
    if _is_torch_tensor(value):
        return np.asarray(value.detach().cpu().numpy())
    if (
        isinstance(value, list | tuple)
        and value
        and not isinstance(value[0], Mapping)
        and all(not _is_scalar(v) for v in value)
    ):
        return np.asarray(value)
    if isinstance(value, Mapping) and value:
        arrays = list(value.values())
        if all(isinstance(a, np.ndarray) or _is_torch_tensor(a) for a in arrays) and any(
            getattr(a, "ndim", 1) >= 2 for a in arrays
        ):
            return {str(k): _tensor_to_numpy(v) for k, v in value.items()}
    return None


def _tensor_to_numpy(value: Any) -> numpy.ndarray:
    import numpy as np

    if _is_torch_tensor(value):
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)


def _positional_names(width: int, names: Sequence[str], required: int, what: str) -> list[str]:
    if width == len(names):
        return list(names)
    if width == required:
        return list(names[:required])
    raise InvalidArgument(
        f"{what} has {width} columns by position; the signature has {len(names)} "
        f"({', '.join(names)})",
        details={"got": width, "expected": list(names)},
    )


def as_frame(
    value: Any, *, names: Sequence[str] | None, what: str, required: int | None = None
) -> pandas.DataFrame | None:
    """``value`` as a DataFrame, or None when it is not columnar. ``names`` (the signature's
    columns, required ones first) label positional input: NumPy arrays and lists of rows."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, pd.Series):
        if value.name is None:
            raise InvalidArgument(f"{what}: a Series needs a name to be used as a column")
        return value.to_frame()
    if _is_polars_frame(value) or _is_arrow_table(value):
        frame: pd.DataFrame = value.to_pandas()
        return frame
    if isinstance(value, Mapping):
        if not value:
            raise InvalidArgument(f"{what} is an empty dict")
        if all(_is_scalar(v) for v in value.values()):
            return pd.DataFrame({str(k): [v] for k, v in value.items()})
        try:
            return pd.DataFrame({str(k): _column(v) for k, v in value.items()})
        except ValueError as exc:
            raise InvalidArgument(f"{what}: the columns do not line up: {exc}") from None
    if isinstance(value, list | tuple):
        if not value:
            raise InvalidArgument(f"{what} is an empty list")
        if all(isinstance(r, Mapping) for r in value):
            return pd.DataFrame.from_records(list(value))
        if names is None:
            return None
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            return pd.DataFrame(value)
        if names is None:
            return None
        need = len(names) if required is None else required
        if value.ndim == 1 and len(names) >= 1 and need <= 1:
            return pd.DataFrame({names[0]: value})
        if value.ndim == 2:
            labels = _positional_names(value.shape[1], names, need, what)
            return pd.DataFrame(value, columns=labels)
        raise InvalidArgument(
            f"{what}: a {value.ndim}-D array cannot be read as columns "
            f"({', '.join(names)}); pass a 2-D array",
            details={"shape": list(value.shape)},
        )
    return None


def _column(value: Any) -> Any:
    if _is_torch_tensor(value):
        return _tensor_to_numpy(value)
    return value


def as_array(value: Any, *, name: str | None, what: str) -> numpy.ndarray:
    """``value`` as one NumPy array (for a tensor signature)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.ndarray):
        if value.dtype.names:
            raise InvalidArgument(f"{what}: a structured array cannot be used as a tensor")
        return value
    if _is_torch_tensor(value):
        return _tensor_to_numpy(value)
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.to_numpy()
    if _is_polars_frame(value):
        return np.asarray(value.to_numpy())
    if _is_arrow_table(value):
        return np.asarray(value.to_pandas().to_numpy())
    if isinstance(value, Mapping):
        if name is not None and name in value and len(value) == 1:
            return as_array(value[name], name=None, what=what)
        frame = as_frame(value, names=None, what=what)
        assert frame is not None
        return frame.to_numpy()
    if isinstance(value, list | tuple):
        if value and all(isinstance(r, Mapping) for r in value):
            return pd.DataFrame.from_records(list(value)).to_numpy()
        return np.asarray(value)
    raise InvalidArgument(
        f"{what}: expected {ACCEPTED}, got {type(value).__name__}",
        details={"type": type(value).__name__},
    )


def unsigned(value: Any) -> Any:
    """Input for a model without a signature: frames as pandas, rows as arrays, the rest as is."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame | np.ndarray):
        return value
    if _is_torch_tensor(value):
        return _tensor_to_numpy(value)
    if _is_polars_frame(value) or _is_arrow_table(value) or isinstance(value, Mapping):
        return as_frame(value, names=None, what="input")
    if isinstance(value, list | tuple) and value:
        if all(isinstance(r, Mapping) for r in value):
            return as_frame(value, names=None, what="input")
        return np.asarray(value)
    return value
