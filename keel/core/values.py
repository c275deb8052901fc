"""Param values: stored as text with their Python type remembered.

``encode_value`` turns an int, float, bool, str or None into ``(text, type_name)``;
``decode_value`` gives the original value back. Floats keep their repr so ``0.1`` round-trips
exactly, and NaN/inf are representable. Anything else is refused: a param is a configuration
value, not an object.
"""

from __future__ import annotations

from keel.errors import InvalidArgument

MAX_PARAM_BYTES = 64 * 1024
_TYPES = ("int", "float", "bool", "str", "none")


def encode_value(value: object, what: str = "value") -> tuple[str, str]:
    if value is None:
        text, kind = "", "none"
    elif isinstance(value, bool):
        text, kind = ("true" if value else "false"), "bool"
    elif isinstance(value, int):
        text, kind = str(value), "int"
    elif isinstance(value, float):
        text, kind = repr(value), "float"
    elif isinstance(value, str):
        text, kind = value, "str"
    else:
        # numpy scalars and the like: accept them through their Python equivalent.
        item = getattr(value, "item", None)
        if callable(item):
            converted = item()
            if isinstance(converted, (bool, int, float, str)):
                return encode_value(converted, what)
        raise InvalidArgument(
            f"{what} has type {type(value).__name__}; params take int, float, bool, str or None",
            details={"field": what, "type": type(value).__name__},
        )
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PARAM_BYTES:
        raise InvalidArgument(
            f"{what} is {size} bytes; a param value holds at most {MAX_PARAM_BYTES} bytes "
            "(log large values as an artifact)",
            details={"field": what, "size": size},
        )
    if "\x00" in text:
        raise InvalidArgument(f"{what} contains a NUL character", details={"field": what})
    return text, kind


def decode_value(text: str, kind: str) -> object:
    if kind == "str":
        return text
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text == "true"
    if kind == "none":
        return None
    raise InvalidArgument(f"unknown param type {kind!r}; known: {', '.join(_TYPES)}")

