"""The wire form of keel's value objects: frozen dataclasses <-> JSON-able data, driven by their
type hints, so the HTTP transport never hand-writes a serializer per class.

Rules: dataclasses and NamedTuples become objects keyed by field name; enums their value;
mappings objects; sequences and tuples arrays. Floats that JSON cannot carry travel as the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (as protobuf's JSON mapping does), so a
NaN metric arrives as NaN, not as null. Decoding checks every value against its declared type
and raises InvalidArgument naming the field path, because the server decodes what clients send.

This module imports only the standard library.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from keel.errors import InvalidArgument

__all__ = ["decode_float", "encode_float", "from_wire", "to_wire"]

T = TypeVar("T")

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: object, where: str = "value") -> float:
    if isinstance(value, bool):
        raise _bad(where, "a number", value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise _bad(where, "a number (or 'NaN', 'Infinity', '-Infinity')", value)


def to_wire(value: Any, tp: Any = None) -> Any:
    """JSON-able data for ``value`` (dataclass, NamedTuple, enum, mapping, sequence, scalar).

    ``tp`` is the static type where known (dataclass fields supply theirs). A non-finite float
    whose type is ``float`` becomes ``"NaN"``/``"Infinity"``/``"-Infinity"``; one in an
    untyped place (``Any``, e.g. a dataset profile) becomes ``{"$float": "NaN"}`` so that it
    cannot be mistaken for a string that happens to read "NaN".
    """
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return encode_float(value) if _is_float_type(tp) else {"$float": encode_float(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = _hints(type(value))
        return {f.name: to_wire(getattr(value, f.name), hints.get(f.name))
                for f in _fields(type(value))}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        hints = _hints(type(value))
        return {name: to_wire(item, hints.get(name))
                for name, item in zip(value._fields, value, strict=True)}
    args = get_args(tp) if tp is not None else ()
    if isinstance(value, Mapping):
        inner = args[1] if len(args) == 2 else None
        return {str(k): to_wire(v, inner) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        if get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return [to_wire(v, a) for v, a in zip(value, args, strict=False)]
        inner = args[0] if args else None
        return [to_wire(v, inner) for v in value]
    raise TypeError(f"{type(value).__name__} has no wire form")


def _is_float_type(tp: Any) -> bool:
    if tp is float:
        return True
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        return float in args and Any not in args
    return False


def _untag(data: Any) -> Any:
    """Untyped data back from the wire: ``{"$float": "NaN"}`` becomes the float again."""
    if isinstance(data, dict):
        if len(data) == 1 and "$float" in data:
            return decode_float(data["$float"], "$float")
        return {k: _untag(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_untag(v) for v in data]
    return data


def from_wire(cls: type[T] | Any, data: Any, where: str = "body") -> T:
    """Rebuild a ``cls`` from :func:`to_wire` output, checking types; InvalidArgument names the
    first field that does not fit."""
    return typing.cast(T, _decode(cls, data, where))


@cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.init)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _bad(where: str, expected: str, value: object) -> InvalidArgument:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return InvalidArgument(
        f"{where}: expected {expected}, got {shown}", details={"field": where}
    )


def _decode(tp: Any, data: Any, where: str) -> Any:
    if tp is Any or tp is object:
        return _untag(data)
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        if data is None and type(None) in args:
            return None
        errors: list[InvalidArgument] = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data, where)
            except InvalidArgument as error:
                errors.append(error)
        raise errors[0] if len(errors) == 1 else _bad(where, _describe(tp), data)
    if origin is typing.Literal:
        if data in get_args(tp):
            return data
        raise _bad(where, f"one of {list(get_args(tp))}", data)
    if tp is type(None):
        if data is None:
            return None
        raise _bad(where, "null", data)
    if tp is bool:
        if isinstance(data, bool):
            return data
        raise _bad(where, "true or false", data)
    if tp is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        raise _bad(where, "an integer", data)
    if tp is float:
        return decode_float(data, where)
    if tp is str:
        if isinstance(data, str):
            return data
        raise _bad(where, "a string", data)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise _bad(where, f"one of {[m.value for m in tp]}", data) from None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_object(tp, data, where, [f.name for f in _fields(tp)])
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields"):
        return _decode_object(tp, data, where, list(tp._fields))
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(data, dict):
            raise _bad(where, "an object", data)
        args = get_args(tp)
        value_type = args[1] if len(args) == 2 else Any
        return {str(k): _decode(value_type, v, f"{where}.{k}") for k, v in data.items()}
    if origin is tuple:
        if not isinstance(data, list):
            raise _bad(where, "an array", data)
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise _bad(where, f"an array of {len(args)} items", data)
        pairs = enumerate(zip(args, data, strict=True))
        return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in pairs)
    if origin in (list, Sequence) or tp in (list, Sequence):
        if not isinstance(data, list):
            raise _bad(where, "an array", data)
        args = get_args(tp)
        item_type = args[0] if args else Any
        return [_decode(item_type, v, f"{where}[{i}]") for i, v in enumerate(data)]
    raise TypeError(f"no wire decoding for {tp!r}")


def _decode_object(cls: type, data: Any, where: str, names: list[str]) -> Any:
    if not isinstance(data, dict):
        raise _bad(where, f"an object ({cls.__name__})", data)
    hints = _hints(cls)
    unknown = set(data) - set(names)
    if unknown:
        raise InvalidArgument(
            f"{where}: unknown field(s) {sorted(unknown)} for {cls.__name__}",
            details={"field": where},
        )
    kwargs = {
        name: _decode(hints[name], data[name], f"{where}.{name}")
        for name in names
        if name in data
    }
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise InvalidArgument(f"{where}: {error}", details={"field": where}) from None
    except ValueError as error:
        raise InvalidArgument(f"{where}: {error}", details={"field": where}) from None


def _describe(tp: Any) -> str:
    names = [getattr(a, "__name__", repr(a)) for a in get_args(tp)]
    return " or ".join(n.replace("NoneType", "null") for n in names)
