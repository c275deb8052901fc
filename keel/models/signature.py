"""Model signatures: what a model takes and returns, inferred from an example or declared.

A signature is one of two kinds:

- ``columns``: named columns, each with a dtype (a frame, a dict of columns, a list of records);
- ``tensor``: one array (or a few named arrays) with a dtype and a shape, ``-1`` marking a
  dimension of any size (the batch dimension, usually).

Dtypes come from a closed vocabulary, :data:`DTYPES`: NumPy's numeric names, ``bool``,
``string``, ``datetime``, ``category`` and ``object`` (not checked). Signatures are plain frozen
dataclasses with ``to_dict``/``from_dict`` in a YAML-friendly form, so ``MODEL.yaml`` stays
readable. How ``predict`` checks and casts its input against a signature is
:func:`keel.models.prepare.prepare_input`.

This module imports NumPy and pandas only inside :func:`infer_signature`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from keel.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy
    import pandas

__all__ = ["DTYPES", "ColumnSpec", "Signature", "infer_signature", "prepare_input"]

INTEGER_DTYPES = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
)
FLOAT_DTYPES = frozenset({"float16", "float32", "float64"})
NUMERIC_DTYPES = INTEGER_DTYPES | FLOAT_DTYPES
DTYPES = NUMERIC_DTYPES | {"bool", "string", "datetime", "category", "object"}
"""Every dtype a :class:`ColumnSpec` may name."""

Kind = Literal["columns", "tensor"]


@dataclass(frozen=True)
class ColumnSpec:
    """One input or output: a named column, or a tensor with a ``shape`` (``-1`` = any size).

    ``optional`` columns may be left out of the input; ``nullable`` ones may hold missing values
    (floats may always hold NaN: it is a float value, and tree models use it for "missing").
    """

    name: str | None
    dtype: str
    shape: tuple[int, ...] | None = None
    optional: bool = False
    nullable: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise InvalidArgument(
                f"unknown dtype {self.dtype!r} for {self.label}; "
                f"known: {', '.join(sorted(DTYPES))}",
                details={"column": self.name, "dtype": self.dtype},
            )
        if self.shape is not None:
            shape = tuple(int(d) for d in self.shape)
            if any(d < -1 for d in shape):
                raise InvalidArgument(
                    f"shape {shape} of {self.label}: dimensions are sizes, or -1 for any size",
                    details={"column": self.name, "shape": list(shape)},
                )
            object.__setattr__(self, "shape", shape)

    @property
    def label(self) -> str:
        return f"column {self.name!r}" if self.name is not None else "the input"

    def describe(self) -> str:
        """``int64``, ``float32 (-1, 4)``, ``string, nullable``: what the error messages show."""
        text = self.dtype
        if self.shape is not None:
            text += " " + _shape_text(self.shape)
        if self.nullable and self.dtype not in FLOAT_DTYPES:
            text += ", nullable"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        out["dtype"] = self.dtype
        if self.shape is not None:
            out["shape"] = list(self.shape)
        if self.optional:
            out["optional"] = True
        if self.nullable:
            out["nullable"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        shape = data.get("shape")
        return cls(
            name=data.get("name"),
            dtype=str(data["dtype"]),
            shape=tuple(shape) if shape is not None else None,
            optional=bool(data.get("optional", False)),
            nullable=bool(data.get("nullable", False)),
        )


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class Signature:
    """The inputs (and, for information, the outputs) of a model."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = field(default=())
    kind: Kind = "columns"

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if self.kind not in ("columns", "tensor"):
            raise InvalidArgument(
                f"signature kind must be 'columns' or 'tensor', not {self.kind!r}"
            )
        if not self.inputs:
            raise InvalidArgument("a signature needs at least one input")
        names = [c.name for c in self.inputs]
        if self.kind == "columns":
            if any(not n for n in names):
                raise InvalidArgument("every column of a 'columns' signature needs a name")
            for spec in self.inputs:
                if spec.shape is not None:
                    raise InvalidArgument(
                        f"{spec.label}: shapes belong to 'tensor' signatures",
                        details={"column": spec.name},
                    )
        else:
            if len(self.inputs) > 1 and any(not n for n in names):
                raise InvalidArgument("a signature with several tensors needs a name for each")
            for spec in self.inputs:
                if spec.shape is None:
                    raise InvalidArgument(
                        f"{spec.label}: a 'tensor' signature needs a shape",
                        details={"column": spec.name},
                    )
        duplicates = sorted({str(n) for n in names if n is not None and names.count(n) > 1})
        if duplicates:
            raise InvalidArgument(
                f"duplicate input names in signature: {', '.join(duplicates)}",
                details={"columns": duplicates},
            )

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs if c.name is not None]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "inputs": [c.to_dict() for c in self.inputs]}
        if self.outputs:
            out["outputs"] = [c.to_dict() for c in self.outputs]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        kind = data.get("kind", "columns")
        if kind not in ("columns", "tensor"):
            raise InvalidArgument(f"signature kind must be 'columns' or 'tensor', not {kind!r}")
        return cls(
            inputs=tuple(ColumnSpec.from_dict(c) for c in data.get("inputs") or ()),
            outputs=tuple(ColumnSpec.from_dict(c) for c in data.get("outputs") or ()),
            kind=kind,
        )


def prepare_input(signature: Signature | None, data: Any) -> Any:
    """Check ``data`` against ``signature`` and return what the model gets; see
    :func:`keel.models.prepare.prepare_input`."""
    from keel.models.prepare import prepare_input as _prepare

    return _prepare(signature, data)


# -- inference -------------------------------------------------------------------------------


def infer_signature(example: Any, output: Any = None) -> Signature:
    """The signature of ``example`` (and of ``output``, when given).

    Frames (pandas, polars, Arrow), dicts of 1-D columns, lists of records and structured
    arrays give a ``columns`` signature; NumPy arrays, lists of lists, tensors and dicts of
    n-D arrays give a ``tensor`` signature whose first dimension is ``-1``.
    """
    from keel.models import _frames

    inputs, kind = _infer_specs(_frames, example, "input example")
    outputs: tuple[ColumnSpec, ...] = ()
    if output is not None:
        outputs, _ = _infer_specs(_frames, output, "output")
    return Signature(inputs=inputs, outputs=outputs, kind=kind)


def _infer_specs(frames: Any, value: Any, what: str) -> tuple[tuple[ColumnSpec, ...], Kind]:
    import numpy as np

    shaped = frames.as_tensor_like(value)
    if shaped is not None:
        if isinstance(shaped, dict):
            return tuple(_tensor_spec(name, arr) for name, arr in shaped.items()), "tensor"
        return (_tensor_spec(None, shaped),), "tensor"
    frame = frames.as_frame(value, names=None, what=what)
    if frame is None:
        raise InvalidArgument(
            f"cannot infer a signature from a {type(value).__name__}; pass a DataFrame, a dict "
            "of columns, a list of records or a NumPy array",
            details={"type": type(value).__name__},
        )
    if not isinstance(frame, np.ndarray):
        return tuple(column_spec(str(name), frame[name]) for name in frame.columns), "columns"
    raise InvalidArgument(f"cannot infer a signature from {what}")  # pragma: no cover


def _tensor_spec(name: str | None, array: numpy.ndarray) -> ColumnSpec:
    from keel.models._dtypes import array_dtype

    dtype = array_dtype(array)
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    return ColumnSpec(name=name, dtype=dtype, shape=shape)


def column_spec(name: str, series: pandas.Series[Any]) -> ColumnSpec:
    """The spec of one pandas column: its dtype in keel's vocabulary, nullable when it has
    missing values."""
    from keel.models._dtypes import series_dtype

    dtype = series_dtype(series)
    nullable = bool(series.isna().any()) if dtype != "object" else False
    return ColumnSpec(name=name, dtype=dtype, nullable=nullable)
