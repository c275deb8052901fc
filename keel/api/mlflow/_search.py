"""MLflow's search syntax, read with keel's filter lexer.

An MLflow filter is comparisons joined by ``AND`` (no ``OR``, no parentheses)::

    metrics.acc > 0.9 and params.lr = '0.01' and tags.`team name` = 'risk'
    attributes.status = 'FINISHED' and run_name LIKE 'cv-%' and attributes.run_id IN ('a', 'b')

An identifier is ``<entity>.<key>`` (the key may be quoted with backticks or double quotes) or a
bare attribute. :func:`parse_clauses` gives the comparisons; :func:`run_filter` and
:func:`run_order` translate run searches into keel's query AST (executed by the store in SQL),
and :func:`evaluate` / :func:`sort_key` apply a filter or an order to experiments, registered
models, versions and logged models, which are few enough to filter in Python.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keel.api.mlflow._errors import invalid
from keel.tracking._filter_lexer import Token, tokenize
from keel.tracking.models import RunStatus
from keel.tracking.query import BoolOp, Comparison, Entity, Expr, OrderBy

Value = str | int | float | tuple[str | int | float, ...] | None

_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
SET_OPS = frozenset({"IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})

RUN_ENTITIES = {
    **dict.fromkeys(("metric", "metrics"), "metric"),
    **dict.fromkeys(("parameter", "parameters", "param", "params"), "param"),
    **dict.fromkeys(("tag", "tags"), "tag"),
    **dict.fromkeys(("attribute", "attributes", "attr", "run"), "attribute"),
    **dict.fromkeys(("dataset", "datasets"), "dataset"),
}
_RUN_ATTRIBUTES = {"run_id": "run_id", "run_name": "run_name", "status": "status",
                   "user_id": "user", "start_time": "start_time", "end_time": "end_time",
                   "created": "start_time", "Created": "start_time", "run name": "run_name",
                   "Run name": "run_name", "Run Name": "run_name"}
_NUMERIC_RUN_ATTRIBUTES = ("start_time", "end_time")
_SYSTEM_TAGS = {"mlflow.runName": "run_name", "mlflow.user": "user",
                "mlflow.parentRunId": "parent_run_id"}
"""MLflow tags keel keeps as run fields."""


@dataclass(frozen=True)
class Clause:
    entity: str
    key: str
    op: str
    value: Value


def _fail(text: str, token: Token, message: str) -> Exception:
    return invalid(f"Invalid filter {text!r} at position {token.pos}: {message}",
                   position=token.pos)


class _Reader:
    def __init__(self, text: str, entities: Mapping[str, str], bare: str) -> None:
        self.text = text
        self.entities = entities
        self.bare = bare
        self.tokens = tokenize(text, "filter")
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def identifier(self) -> tuple[str, str]:
        token = self.advance()
        if token.kind != "word":
            raise _fail(self.text, token, f"expected an identifier, found {token.describe()}")
        prefix, dot, key = token.text.partition(".")
        if not dot:
            return self.bare, prefix
        entity = self.entities.get(prefix)
        if entity is None:
            known = ", ".join(sorted(set(self.entities)))
            raise _fail(self.text, token, f"invalid identifier {prefix!r}; expected one of "
                        f"{known}")
        if not key:
            quoted = self.peek()
            if quoted.pos != token.end or quoted.kind not in ("string", "backtick") or (
                    quoted.quote == "'"):
                raise _fail(self.text, quoted, f"expected a key after {token.text!r}")
            key = str(self.advance().value)
        if not key:
            raise _fail(self.text, token, "empty key")
        return entity, key

    def comparator(self) -> str:
        token = self.advance()
        if token.kind == "op":
            return _OPS[token.text]
        word = token.text.upper() if token.kind == "word" else ""
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT" and self.peek().is_keyword("IN"):
            self.advance()
            return "NOT IN"
        if word == "IS":
            negated = self.peek().is_keyword("NOT")
            if negated:
                self.advance()
            if not self.advance().is_keyword("NULL"):
                raise _fail(self.text, token, "expected NULL after IS")
            return "IS NOT NULL" if negated else "IS NULL"
        raise _fail(self.text, token, f"invalid comparator {token.text!r}")

    def literal(self) -> str | int | float:
        token = self.advance()
        if token.kind not in ("string", "number"):
            raise _fail(self.text, token, f"expected a value, found {token.describe()}; quote "
                        "strings with single quotes")
        return token.value

    def value(self, op: str) -> Value:
        if op in NULL_OPS:
            return None
        if op not in SET_OPS:
            return self.literal()
        if self.advance().kind != "(":
            raise _fail(self.text, self.tokens[self.index - 1], f"{op} needs a list: ('a', 'b')")
        values = [self.literal()]
        while self.peek().kind == ",":
            self.advance()
            values.append(self.literal())
        if self.advance().kind != ")":
            raise _fail(self.text, self.tokens[self.index - 1], "expected ',' or ')'")
        return tuple(values)


def parse_clauses(text: str | None, entities: Mapping[str, str], bare: str) -> list[Clause]:
    """The comparisons of ``text`` (joined by AND); ``entities`` maps identifier prefixes to
    entity names, bare identifiers belong to ``bare``."""
    if text is None or not text.strip():
        return []
    reader = _Reader(text, entities, bare)
    clauses = []
    while True:
        entity, key = reader.identifier()
        op = reader.comparator()
        clauses.append(Clause(entity, key, op, reader.value(op)))
        token = reader.advance()
        if token.kind == "end":
            return clauses
        if not token.is_keyword("AND"):
            raise _fail(text, token, f"expected AND or the end, found {token.describe()} "
                        "(MLflow filters join comparisons with AND only)")


def check_clause(clause: Clause, ops: frozenset[str], numeric: bool) -> None:
    """Refuse an operator the field does not take, or a value of the wrong type."""
    what = f"{clause.entity} '{clause.key}'"
    if clause.op not in ops:
        raise invalid(f"Invalid comparator '{clause.op}' for {what}; expected one of "
                      f"{', '.join(sorted(ops))}")
    values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    for value in values:
        if value is None:
            continue
        if numeric and isinstance(value, str):
            raise invalid(f"Expected a numeric value for {what}, found {value!r}")
        if not numeric and not isinstance(value, str):
            raise invalid(f"Expected a quoted string value for {what}, found {value!r}")


# -- runs: translated to keel's query AST ---------------------------------------------------


def _run_attribute(entity: str, key: str) -> tuple[Entity, str]:
    if entity == "tag":
        if key == "mlflow.note.content":
            raise invalid("filtering on tags.mlflow.note.content is not supported: keel keeps "
                          "a run's note as the run's description")
        return (Entity.ATTRIBUTE, _SYSTEM_TAGS[key]) if key in _SYSTEM_TAGS else (Entity.TAG, key)
    if entity == "attribute":
        if key in _RUN_ATTRIBUTES:
            return Entity.ATTRIBUTE, _RUN_ATTRIBUTES[key]
        if key == "artifact_uri":
            raise invalid("filtering or ordering runs by artifact_uri is not supported by keel "
                          "server")
        known = ", ".join(sorted(k for k in _RUN_ATTRIBUTES if " " not in k))
        raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are {known}")
    return {"metric": Entity.METRIC, "param": Entity.PARAM}[entity], key


def run_filter(text: str | None) -> Expr | None:
    clauses = parse_clauses(text, RUN_ENTITIES, "attribute")
    comparisons = [_run_comparison(c) for c in clauses]
    if not comparisons:
        return None
    return comparisons[0] if len(comparisons) == 1 else BoolOp("AND", tuple(comparisons))


def _run_comparison(clause: Clause) -> Comparison:
    if clause.entity == "dataset":
        if clause.key not in ("name", "digest", "context"):
            raise invalid(f"Invalid dataset key '{clause.key}'; expected name, digest or context")
        check_clause(clause, STRING_OPS | SET_OPS, numeric=False)
        return Comparison(Entity.DATASET, clause.key, clause.op, clause.value)
    entity, key = _run_attribute(clause.entity, clause.key)
    value = clause.value
    if entity is Entity.METRIC or key in _NUMERIC_RUN_ATTRIBUTES:
        check_clause(clause, NUMERIC_OPS, numeric=True)
    elif entity is Entity.ATTRIBUTE:
        check_clause(clause, STRING_OPS | SET_OPS | NULL_OPS, numeric=False)
        if key == "status" and clause.op not in ("LIKE", "ILIKE"):
            value = _statuses(value)
    else:
        check_clause(clause, STRING_OPS | NULL_OPS, numeric=False)
    return Comparison(entity, key, clause.op, value)


def _statuses(value: Value) -> Value:
    known = {s.value for s in RunStatus}
    values = value if isinstance(value, tuple) else (value,)
    for status in values:
        if str(status).upper() not in known:
            raise invalid(f"Invalid run status {status!r}; expected one of "
                          f"{', '.join(sorted(known))}")
    upper = tuple(str(v).upper() for v in values)
    return upper if isinstance(value, tuple) else upper[0]


def run_order(items: Sequence[str]) -> tuple[OrderBy, ...]:
    """``metrics.acc DESC``, ``attributes.start_time``, ``params.p ASC``, ``tags.t``."""
    out = []
    for item in items:
        reader = _Reader(item, RUN_ENTITIES, "attribute")
        entity, key = reader.identifier()
        if entity == "dataset":
            raise invalid(f"Invalid order_by clause {item!r}: runs cannot be ordered by datasets")
        keel_entity, keel_key = _run_attribute(entity, key)
        descending = _direction(reader, item)
        out.append(OrderBy(keel_entity, keel_key, descending))
    return tuple(out)


def _direction(reader: _Reader, item: str) -> bool:
    token = reader.advance()
    descending = False
    if token.is_keyword("ASC", "DESC"):
        descending = token.text.upper() == "DESC"
        token = reader.advance()
    if token.kind != "end":
        raise invalid(f"Invalid order_by clause {item!r}: expected ASC or DESC after the key")
    return descending


def parse_order(items: Sequence[str], allowed: Mapping[str, str]) -> list[tuple[str, bool]]:
    """Order items for Python-side sorting: (field, descending); ``allowed`` maps the names a
    client may use to the field."""
    out = []
    for item in items:
        words = item.split()
        if not words or len(words) > 2 or words[0] not in allowed or (
                len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise invalid(f"Invalid order_by clause {item!r}; order by one of "
                          f"{', '.join(sorted(allowed))}, optionally followed by ASC or DESC")
        out.append((allowed[words[0]], len(words) == 2 and words[1].upper() == "DESC"))
    return out


# -- evaluated in Python ---------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _like(pattern: str, insensitive: bool) -> re.Pattern[str]:
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if insensitive else 0))


def compare(actual: Any, op: str, expected: Value) -> bool:
    """One comparison as MLflow's registry applies it: a missing value (an absent tag)
    matches IS NULL, != and NOT IN, and nothing else (clients exclude prompts from registry
    searches with ``tag.`mlflow.prompt.is_prompt` != 'true'``)."""
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return op in ("!=", "NOT IN")
    if op == "LIKE" or op == "ILIKE":
        return _like(str(expected), op == "ILIKE").fullmatch(str(actual)) is not None
    if op in SET_OPS:
        inside = actual in (expected if isinstance(expected, tuple) else (expected,))
        return inside if op == "IN" else not inside
    try:
        if op == "=":
            return bool(actual == expected)
        if op == "!=":
            return bool(actual != expected)
        if op == "<":
            return bool(actual < expected)
        if op == "<=":
            return bool(actual <= expected)
        if op == ">":
            return bool(actual > expected)
        return bool(actual >= expected)
    except TypeError:
        return False


def evaluate(clauses: Sequence[Clause], get: Callable[[Clause], Any]) -> bool:
    return all(compare(get(clause), clause.op, clause.value) for clause in clauses)


def sort_key(order: Sequence[tuple[str, bool]],
             get: Callable[[Any, str], Any]) -> Callable[[Any], Any]:
    """A key for ``sorted``: ``get(item, field)`` gives a field's value (values of one field
    are of one type; None sorts last, whatever the direction)."""

    class _Key:
        __slots__ = ("values",)

        def __init__(self, item: Any) -> None:
            self.values = [get(item, name) for name, _ in order]

        def __lt__(self, other: _Key) -> bool:
            for (_, descending), mine, theirs in zip(order, self.values, other.values,
                                                     strict=True):
                if mine == theirs:
                    continue
                if mine is None or theirs is None:
                    return theirs is None
                return bool(mine > theirs) if descending else bool(mine < theirs)
            return False

    return _Key


def page(items: Sequence[Any], max_results: int | None, page_token: str | None,
         default: int = 1000, limit: int = 50_000) -> tuple[list[Any], str | None]:
    """One page of ``items`` (already filtered and ordered) and the next page's token."""
    from keel.core.pagination import decode_page_token, encode_page_token

    size = default if max_results is None else max_results
    if not 1 <= size <= limit:
        raise invalid(f"Invalid value {size} for parameter 'max_results': it must be between 1 "
                      f"and {limit}")
    offset = decode_page_token(page_token)
    chunk = list(items[offset:offset + size])
    more = offset + size < len(items)
    return chunk, encode_page_token(offset + size) if more else None


VIEW_TYPES = {"ACTIVE_ONLY": "active_only", "DELETED_ONLY": "deleted_only", "ALL": "all",
              "1": "active_only", "2": "deleted_only", "3": "all"}


def view_type(raw: object) -> str:
    """keel's ViewType value for MLflow's ``view_type`` / ``run_view_type``."""
    if raw is None:
        return "active_only"
    found = VIEW_TYPES.get(str(raw).upper())
    if found is None:
        raise invalid(f"Invalid view type {raw!r}; expected ACTIVE_ONLY, DELETED_ONLY or ALL")
    return found
