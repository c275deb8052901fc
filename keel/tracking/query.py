"""The search language's syntax tree: what ``parse_filter`` produces and stores translate.

A filter is a boolean expression of comparisons::

    metrics.acc > 0.9 and params.lr = '0.01' and (tags.team = 'risk' or status = 'FINISHED')

Each comparison names an entity (``metrics``, ``params``, ``tags``, ``attributes`` or
``datasets``), a key, an operator and a literal. Attributes may be written bare (``status``).
Semantics, which every store must follow:

- ``metrics.k`` compares the run's latest value of k (highest step, then latest timestamp);
  NaN is never equal to or ordered against anything.
- ``params.k`` compares the stored text when the literal is a string; when the literal is a
  number, it compares numerically and only params logged as int or float can match.
- ``tags.k`` compares text. ``datasets.name|digest|context`` matches when any dataset input of
  the run does.
- A run without the key never matches a comparison, except ``IS NULL`` which matches exactly
  those runs; ``!=`` and ``NOT IN`` match only runs that have the key.
- ``LIKE`` is case-sensitive, ``ILIKE`` is not; ``%`` and ``_`` are the wildcards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Entity(enum.StrEnum):
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"
    DATASET = "datasets"


ATTRIBUTE_KEYS = (
    "run_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "user",
    "experiment_id",
    "parent_run_id",
)
NUMERIC_ATTRIBUTES = ("start_time", "end_time")
DATASET_KEYS = ("name", "digest", "context")

COMPARATORS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPERATORS = ("LIKE", "ILIKE")
SET_OPERATORS = ("IN", "NOT IN")
NULL_OPERATORS = ("IS NULL", "IS NOT NULL")

Literal = str | float | int | tuple[str | float | int, ...] | None


@dataclass(frozen=True)
class Comparison:
    entity: Entity
    key: str
    op: str
    """One of COMPARATORS, STRING_OPERATORS, SET_OPERATORS or NULL_OPERATORS."""
    value: Literal


@dataclass(frozen=True)
class BoolOp:
    op: str
    """'AND' or 'OR'."""
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderBy:
    entity: Entity
    key: str
    descending: bool = False


DEFAULT_ORDER = (OrderBy(Entity.ATTRIBUTE, "start_time", descending=True),)
