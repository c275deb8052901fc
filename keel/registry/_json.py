"""JSON-safe values: what an entity looks like inside an audit record or an event payload."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def encode_float(value: float) -> float | str:
    """``value``, or ``"NaN"``/``"Infinity"``/``"-Infinity"`` when it is not finite."""
    number = float(value)
    return number if math.isfinite(number) else _NON_FINITE[repr(number)]


def decode_float(value: float | int | str) -> float:
    """The float :func:`encode_float` encoded."""
    return float(value)  # float() reads "NaN", "Infinity" and "-Infinity"


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: dataclasses and mappings become dicts (string keys),
    tuples lists, enums their value, non-finite floats strings. TypeError for anything else."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
