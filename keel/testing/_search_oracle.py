"""A brute-force Python model of the search semantics in keel.tracking.query.

The contract suite compares every store's ``search_runs`` against it, on random runs and random
filters. It states the rules once more, executable:

- metrics compare the latest value (highest step, then latest timestamp, then last logged);
  NaN matches no comparison (``!=`` and ``NOT IN`` included);
- a numeric literal compares params numerically, and only params logged as int or float (and
  not NaN) can match; a string literal compares their text;
- a missing key matches only ``IS NULL``; for datasets "missing" means no inputs at all;
- text compares by code point; ``LIKE`` is case-sensitive, ``ILIKE`` folds ASCII case;
- ordering puts runs without the key last in both directions (metric NaN after numbers, before
  missing values), then start_time descending, then run_id.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from keel.tracking.models import LifecycleStage, ViewType
from keel.tracking.query import BoolOp, Comparison, Entity, Expr, Not, OrderBy

Value = str | float | int | None


@dataclass
class RunFacts:
    """What was logged to a run, in the oracle's terms."""

    run_id: str
    experiment_id: str
    name: str
    status: str
    start_time: int
    end_time: int | None = None
    user: str | None = None
    parent_run_id: str | None = None
    lifecycle_stage: str = LifecycleStage.ACTIVE.value
    params: dict[str, tuple[str, str]] = field(default_factory=dict)
    """key -> (text, type)"""
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    """key -> latest value"""
    inputs: list[tuple[str, str, str]] = field(default_factory=list)
    """(dataset name, digest, context)"""

    def attribute(self, key: str) -> Value:
        if key == "run_id":
            return self.run_id
        if key == "run_name":
            return self.name
        return getattr(self, key)  # type: ignore[no-any-return]


def latest_points(points: Sequence[tuple[str, float, int, int]]) -> dict[str, float]:
    """key -> latest value, for (key, value, step, timestamp) points in logging order."""
    best: dict[str, tuple[int, int, float]] = {}
    for key, value, step, timestamp in points:
        current = best.get(key)
        if current is None or (step, timestamp) >= current[:2]:
            best[key] = (step, timestamp, value)
    return {key: value for key, (_, _, value) in best.items()}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float))


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _param_number(text: str, kind: str) -> float | None:
    if kind not in ("int", "float"):
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def like_matches(text: str, pattern: str, *, fold_case: bool) -> bool:
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern
    )
    if fold_case:
        lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
        text, regex = text.translate(lower), regex.translate(lower)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def _compare(op: str, left: object, right: object) -> bool:
    a: float | str = left  # type: ignore[assignment]
    b: float | str = right  # type: ignore[assignment]
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    if op == ">=":
        return a >= b  # type: ignore[operator]
    raise ValueError(op)


def _value_matches(op: str, stored: float | str, literal: object, *, numeric: bool) -> bool:
    """``stored op literal`` for a run that has the key; ``stored`` is never NaN here."""
    if op in ("IN", "NOT IN"):
        assert isinstance(literal, tuple)
        if numeric:
            values: list[float | str] = [float(v) for v in literal if not _is_nan(v)]
        else:
            values = [_as_text(v) for v in literal]
        return (stored in values) == (op == "IN")
    if op in ("LIKE", "ILIKE"):
        assert isinstance(stored, str) and isinstance(literal, str)
        return like_matches(stored, literal, fold_case=op == "ILIKE")
    if numeric:
        number = float(literal)  # type: ignore[arg-type]
        return not math.isnan(number) and _compare(op, stored, number)
    return _compare(op, stored, _as_text(literal))


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _numeric_literal(value: object) -> bool:
    if isinstance(value, tuple):
        return bool(value) and all(_is_number(v) for v in value)
    return _is_number(value)


def matches(expr: Expr, run: RunFacts) -> bool:
    """Whether ``run`` satisfies ``expr``."""
    if isinstance(expr, Not):
        return not matches(expr.operand, run)
    if isinstance(expr, BoolOp):
        results = (matches(operand, run) for operand in expr.operands)
        return all(results) if expr.op.upper() == "AND" else any(results)
    return _comparison(expr, run)


def _comparison(c: Comparison, run: RunFacts) -> bool:
    if c.entity is Entity.DATASET:
        if c.op in ("IS NULL", "IS NOT NULL"):
            return (not run.inputs) == (c.op == "IS NULL")
        index = {"name": 0, "digest": 1, "context": 2}[c.key]
        return any(
            _value_matches(c.op, facts[index], c.value, numeric=False) for facts in run.inputs
        )
    stored: float | str | None
    numeric = False
    if c.entity is Entity.METRIC:
        present, stored, numeric = c.key in run.metrics, run.metrics.get(c.key), True
    elif c.entity is Entity.PARAM:
        param = run.params.get(c.key)
        numeric = _numeric_literal(c.value)
        present = param is not None
        # A numeric literal only matches int/float params (a str param cannot match).
        if param is None:
            stored = None
        elif numeric:
            stored = _param_number(*param)
        else:
            stored = param[0]
    elif c.entity is Entity.TAG:
        present, stored = c.key in run.tags, run.tags.get(c.key)
    else:
        value = run.attribute(c.key)
        numeric = c.key in ("start_time", "end_time")
        present = value is not None
        stored = float(value) if numeric and value is not None else value
    if c.op in ("IS NULL", "IS NOT NULL"):
        return present == (c.op == "IS NOT NULL")
    if stored is None or _is_nan(stored):
        return False
    return _value_matches(c.op, stored, c.value, numeric=numeric)


def in_view(run: RunFacts, view: ViewType) -> bool:
    if view is ViewType.ALL:
        return True
    active = run.lifecycle_stage == LifecycleStage.ACTIVE.value
    return active == (view is ViewType.ACTIVE_ONLY)


def _sort_value(run: RunFacts, order: OrderBy) -> tuple[int, float | str | None]:
    """(group, value): group 0 has a value, 1 is metric NaN, 2 is missing."""
    value: Value
    if order.entity is Entity.METRIC:
        value = run.metrics.get(order.key)
        if value is not None and math.isnan(value):
            return 1, None
    elif order.entity is Entity.PARAM:
        param = run.params.get(order.key)
        value = None if param is None else param[0]
    elif order.entity is Entity.TAG:
        value = run.tags.get(order.key)
    else:
        value = run.attribute(order.key)
    return (2, None) if value is None else (0, value)


def sort_runs(runs: Sequence[RunFacts], order_by: Sequence[OrderBy]) -> list[RunFacts]:
    """``runs`` in the order search_runs must return them."""

    def cmp(a: RunFacts, b: RunFacts) -> int:
        for order in order_by:
            (group_a, value_a), (group_b, value_b) = _sort_value(a, order), _sort_value(b, order)
            if group_a != group_b:
                return -1 if group_a < group_b else 1
            if group_a == 0 and value_a != value_b:
                less = value_a < value_b  # type: ignore[operator]
                return (1 if less else -1) if order.descending else (-1 if less else 1)
        if a.start_time != b.start_time:
            return -1 if a.start_time > b.start_time else 1
        return -1 if a.run_id < b.run_id else (1 if a.run_id > b.run_id else 0)

    return sorted(runs, key=functools.cmp_to_key(cmp))


def expected_ids(
    runs: Sequence[RunFacts],
    expr: Expr | None,
    order_by: Sequence[OrderBy],
    view: ViewType = ViewType.ACTIVE_ONLY,
    experiment_ids: Mapping[str, object] | Sequence[str] | None = None,
) -> list[str]:
    """The run ids search_runs must return, in order."""
    chosen = [
        run
        for run in runs
        if in_view(run, view)
        and (experiment_ids is None or run.experiment_id in experiment_ids)
        and (expr is None or matches(expr, run))
    ]
    return [run.run_id for run in sort_runs(chosen, order_by)]
