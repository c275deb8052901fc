"""Arrow types as the dataset digest and profile see them: logical, with encodings unwrapped.

:func:`canonical_type` names a type the way the digest compares types; :func:`storage_type` and
:func:`plain` strip dictionary and extension wrappers so both the digest
(:mod:`keel.tracking._dataset_digest`) and the profile (:mod:`keel.tracking._dataset_profile`)
handle one representation per logical type. pyarrow is imported lazily: importing this module
imports no dataframe library.
"""

from __future__ import annotations

from typing import Any

__all__ = ["canonical_type", "is_list", "plain", "storage_type"]


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
    if is_list(arrow_type):
        return f"list<{canonical_type(arrow_type.value_type)}>"
    if t.is_struct(arrow_type):
        inner = ", ".join(f"{f.name}: {canonical_type(f.type)}" for f in arrow_type)
        return f"struct<{inner}>"
    if t.is_map(arrow_type):
        return f"map<{canonical_type(arrow_type.key_type)}, {canonical_type(arrow_type.item_type)}>"
    return str(arrow_type)


def _is(types: Any, name: str, arrow_type: Any) -> bool:
    """``pa.types.is_<name>(arrow_type)``, False where this pyarrow has no such type."""
    check = getattr(types, f"is_{name}", None)
    return bool(check(arrow_type)) if check is not None else False


def is_list(arrow_type: Any) -> bool:
    """Whether ``arrow_type`` is any list type: plain, large, view or fixed-size."""
    import pyarrow as pa

    t = pa.types
    return bool(
        t.is_list(arrow_type)
        or t.is_large_list(arrow_type)
        or _is(t, "list_view", arrow_type)
        or _is(t, "large_list_view", arrow_type)
        or t.is_fixed_size_list(arrow_type)
    )


def storage_type(arrow_type: Any) -> Any:
    """The type whose values a column holds: dictionary and extension types unwrapped."""
    import pyarrow as pa

    while True:
        if pa.types.is_dictionary(arrow_type):
            arrow_type = arrow_type.value_type
        elif isinstance(arrow_type, pa.ExtensionType):
            arrow_type = arrow_type.storage_type
        else:
            return arrow_type


def plain(values: Any) -> Any:
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
