"""Wire forms the generic codec does not cover: metric points column-wise, and the search
filter's syntax tree (so keel's client sends exactly the tree it parsed, never re-quoted text).
Shared by the server routes and keel's HTTP client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from math import isfinite
from typing import Any

from keel.core.naming import validate_key
from keel.core.wire import decode_float, encode_float
from keel.errors import InvalidArgument, InvalidFilter
from keel.tracking.models import Metric, MetricRecord
from keel.tracking.query import (
    ATTRIBUTE_KEYS,
    COMPARATORS,
    DATASET_KEYS,
    NULL_OPERATORS,
    NUMERIC_ATTRIBUTES,
    SET_OPERATORS,
    STRING_OPERATORS,
    BoolOp,
    Comparison,
    Entity,
    Expr,
    Not,
    OrderBy,
)

__all__ = [
    "MetricColumns",
    "decode_expr",
    "decode_metric_columns",
    "decode_order",
    "encode_expr",
    "encode_metric_columns",
    "encode_order",
    "metric_history_columns",
    "metric_history_from_columns",
]

MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class MetricColumns:
    """Metric points column-wise. ``run_id`` is one id for every point or one per point."""

    run_id: str | list[str]
    key: list[str]
    value: list[float]
    step: list[int]
    timestamp: list[int]


def encode_metric_columns(records: Sequence[MetricRecord]) -> dict[str, Any]:
    run_ids = [r[0] for r in records]
    first = run_ids[0] if run_ids else ""
    one_run = all(r == first for r in run_ids)
    values = [r[2] for r in records]
    return {
        "run_id": first if one_run else run_ids,
        "key": [r[1] for r in records],
        "value": [v if isfinite(v) else encode_float(v) for v in values],
        "step": [r[3] for r in records],
        "timestamp": [r[4] for r in records],
    }


def decode_metric_columns(columns: MetricColumns) -> list[MetricRecord]:
    n = len(columns.key)
    if n > MAX_POINTS:
        raise InvalidArgument(f"at most {MAX_POINTS} metric points per request, got {n}")
    lengths = {"value": len(columns.value), "step": len(columns.step),
               "timestamp": len(columns.timestamp)}
    run_ids: Sequence[str]
    if isinstance(columns.run_id, str):
        run_ids = list(repeat(columns.run_id, n))
    else:
        run_ids = columns.run_id
        lengths["run_id"] = len(run_ids)
    wrong = {k: v for k, v in lengths.items() if v != n}
    if wrong:
        raise InvalidArgument(
            f"metric columns differ in length: key has {n} items, "
            + ", ".join(f"{k} has {v}" for k, v in wrong.items())
        )
    return list(map(MetricRecord, run_ids, columns.key, columns.value, columns.step,
                    columns.timestamp))


def metric_history_columns(history: Sequence[Metric]) -> dict[str, Any]:
    return {
        "step": [m.step for m in history],
        "value": [encode_float(m.value) for m in history],
        "timestamp": [m.timestamp for m in history],
    }


def metric_history_from_columns(key: str, data: dict[str, Any]) -> list[Metric]:
    return [
        Metric(key, decode_float(v), s, t)
        for s, v, t in zip(data["step"], data["value"], data["timestamp"], strict=True)
    ]


def encode_expr(expr: Expr | None) -> dict[str, Any] | None:
    if expr is None:
        return None
    if isinstance(expr, Comparison):
        value: Any = expr.value
        if isinstance(value, tuple):
            value = {"set": [_literal(v) for v in value]}
        else:
            value = _literal(value)
        return {"cmp": [expr.entity.value, expr.key, expr.op, value]}
    if isinstance(expr, BoolOp):
        return {"bool": expr.op, "operands": [encode_expr(o) for o in expr.operands]}
    return {"not": encode_expr(expr.operand)}


def _literal(value: Any) -> Any:
    if isinstance(value, float):
        return {"float": encode_float(value)}
    return value


def decode_expr(data: Any, depth: int = 0) -> Expr:
    if depth > 200:
        raise InvalidFilter("filter_tree is nested too deeply")
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise InvalidFilter(f"filter_tree: expected a node object, got {data!r:.80}")
    if "cmp" in data:
        parts = data["cmp"]
        if not isinstance(parts, list) or len(parts) != 4:
            raise InvalidFilter("filter_tree: cmp is [entity, key, op, value]")
        entity, key, op, value = parts
        try:
            ent = Entity(entity)
        except ValueError:
            raise InvalidFilter(f"filter_tree: unknown entity {entity!r}") from None
        if isinstance(value, dict) and "set" in value:
            literal: Any = tuple(_decode_literal(v) for v in value["set"])
        else:
            literal = _decode_literal(value)
        return _checked(Comparison(ent, str(key), str(op), literal))
    if "bool" in data:
        operands = data.get("operands")
        if data["bool"] not in ("AND", "OR") or not isinstance(operands, list):
            raise InvalidFilter("filter_tree: bool is AND/OR with a list of operands")
        return BoolOp(data["bool"], tuple(decode_expr(o, depth + 1) for o in operands))
    if "not" in data:
        return Not(decode_expr(data["not"], depth + 1))
    raise InvalidFilter(f"filter_tree: unknown node {sorted(data)}")


def _decode_literal(value: Any) -> Any:
    if isinstance(value, dict) and "float" in value:
        return decode_float(value["float"], "filter value")
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    raise InvalidFilter(f"filter_tree: unsupported literal {value!r:.80}")


def _checked(c: Comparison) -> Comparison:
    """The rules the parser applies to what it builds, so a tree can carry nothing a filter
    string could not."""
    validate_key(c.key, "filter key")
    if c.op not in _OPERATORS:
        raise InvalidFilter(f"filter_tree: unknown operator {c.op!r}")
    if c.entity is Entity.ATTRIBUTE and c.key not in ATTRIBUTE_KEYS:
        raise InvalidFilter(f"filter_tree: unknown attribute {c.key!r}")
    if c.entity is Entity.DATASET and c.key not in DATASET_KEYS:
        raise InvalidFilter(f"filter_tree: unknown dataset field {c.key!r}")
    if c.op in NULL_OPERATORS:
        if c.value is not None:
            raise InvalidFilter(f"filter_tree: {c.op} takes no value")
        return c
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    if (c.op in SET_OPERATORS) != isinstance(c.value, tuple):
        wanted = "a set" if c.op in SET_OPERATORS else "one value"
        raise InvalidFilter(f"filter_tree: {c.op} needs {wanted}")
    numeric = c.entity is Entity.METRIC or (
        c.entity is Entity.ATTRIBUTE and c.key in NUMERIC_ATTRIBUTES
    )
    if not values:
        return c
    texts = {isinstance(v, str) for v in values}
    if None in values or len(texts) != 1:
        raise InvalidFilter("filter_tree: values must all be strings or all numbers")
    is_text = texts.pop()
    if c.entity is not Entity.PARAM and is_text == numeric:
        raise InvalidFilter(f"filter_tree: {c.entity.value}.{c.key} compares with "
                            f"{'numbers' if numeric else 'strings'}")
    if c.op in STRING_OPERATORS and not isinstance(values[0], str):
        raise InvalidFilter(f"filter_tree: {c.op} needs a string pattern")
    return c


_OPERATORS = (*COMPARATORS, *STRING_OPERATORS, *SET_OPERATORS, *NULL_OPERATORS)


def encode_order(order: Sequence[OrderBy]) -> list[tuple[str, str, bool]]:
    return [(o.entity.value, o.key, o.descending) for o in order]


def decode_order(items: Sequence[tuple[str, str, bool]]) -> tuple[OrderBy, ...]:
    order = []
    for entity, key, descending in items:
        try:
            ent = Entity(entity)
        except ValueError:
            raise InvalidFilter(f"order_tree: unknown entity {entity!r}") from None
        if ent is Entity.DATASET:
            raise InvalidFilter("order_tree: runs cannot be ordered by datasets")
        if ent is Entity.ATTRIBUTE and key not in ATTRIBUTE_KEYS:
            raise InvalidFilter(f"order_tree: unknown attribute {key!r}")
        order.append(OrderBy(ent, validate_key(key, "order key"), descending))
    return tuple(order)
