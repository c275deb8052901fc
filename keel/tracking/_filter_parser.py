"""Parse run-search filters and order_by items into the syntax tree of :mod:`keel.tracking.query`.

A hand-written recursive-descent parser. Keywords are case-insensitive::

    filter     = or_expr
    or_expr    = and_expr { "OR" and_expr }
    and_expr   = not_expr { "AND" not_expr }
    not_expr   = { "NOT" } ( "(" or_expr ")" | comparison )
    comparison = identifier ( compare literal | "LIKE" string | "ILIKE" string
                            | [ "NOT" ] "IN" "(" literal { "," literal } ")"
                            | "IS" [ "NOT" ] "NULL" )
    compare    = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    identifier = entity "." key | attribute
    entity     = metrics | metric | params | param | tags | tag
               | attributes | attribute | attr | run | datasets
    key        = word | '"' chars '"' | "`" chars "`"      (quoted keys follow the dot directly)
    literal    = string | number
    order_by   = identifier [ "ASC" | "DESC" ]

Tokens (words, quoted strings and keys, numbers, operators) come from
:mod:`keel.tracking._filter_lexer`, whose docstring gives their rules. Every mistake raises
:class:`~keel.errors.InvalidFilter` naming the position.
"""

from __future__ import annotations

from collections.abc import Sequence

from keel.errors import InvalidFilter
from keel.tracking._filter_lexer import Token, syntax_error, tokenize
from keel.tracking.models import RunStatus
from keel.tracking.query import (
    ATTRIBUTE_KEYS,
    DATASET_KEYS,
    NUMERIC_ATTRIBUTES,
    BoolOp,
    Comparison,
    Entity,
    Expr,
    Literal,
    Not,
    OrderBy,
)

__all__ = ["MAX_FILTER_LENGTH", "MAX_NESTING", "parse_filter", "parse_order_by"]

MAX_FILTER_LENGTH = 10_000
MAX_NESTING = 100
"""How deep parentheses and NOTs may nest, so no parser or store ever recurses without bound."""

_ENTITIES = {
    **dict.fromkeys(("metrics", "metric"), Entity.METRIC),
    **dict.fromkeys(("params", "param"), Entity.PARAM),
    **dict.fromkeys(("tags", "tag"), Entity.TAG),
    **dict.fromkeys(("attributes", "attribute", "attr", "run"), Entity.ATTRIBUTE),
    "datasets": Entity.DATASET,
}
_ATTRIBUTES = {key: key for key in ATTRIBUTE_KEYS} | {"user_id": "user"}
_STATUSES = tuple(status.value for status in RunStatus)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"})
_COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_COMPARATOR_LIST = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS"


class _Parser:
    def __init__(self, text: str, label: str) -> None:
        if len(text) > MAX_FILTER_LENGTH:
            message = (
                f"invalid {label}: {len(text)} characters long, the limit is {MAX_FILTER_LENGTH}"
            )
            raise InvalidFilter(message, details={"position": MAX_FILTER_LENGTH, "token": ""})
        self.text = text
        self.label = label
        self.tokens = tokenize(text, label)
        self.index = 0
        self.depth = 0

    # -- token stream --------------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def after(self) -> str:
        return f" after {self.tokens[self.index - 1].describe()}" if self.index else ""

    def fail(self, token: Token, message: str) -> InvalidFilter:
        return syntax_error(self.text, self.label, token.pos, token.text, message)

    def nest(self, token: Token, levels: int = 1) -> None:
        self.depth += levels
        if self.depth > MAX_NESTING:
            raise self.fail(token, f"parentheses and NOT nest deeper than {MAX_NESTING} levels")

    # -- boolean structure ---------------------------------------------------------------------

    def parse_or(self) -> Expr:
        operands = [self.parse_and()]
        while self.peek().is_keyword("OR"):
            self.advance()
            operands.append(self.parse_and())
        return _combine("OR", operands)

    def parse_and(self) -> Expr:
        operands = [self.parse_not()]
        while self.peek().is_keyword("AND"):
            self.advance()
            operands.append(self.parse_not())
        return _combine("AND", operands)

    def parse_not(self) -> Expr:
        nots = 0
        while self.peek().is_keyword("NOT"):
            self.nest(self.advance())
            nots += 1
        opening = self.peek()
        if opening.kind == "(":
            self.nest(self.advance())
            if self.peek().kind == ")":
                raise self.fail(self.peek(), "empty parentheses: expected a comparison inside")
            expr = self.parse_or()
            closing = self.peek()
            if closing.kind != ")":
                raise self.fail(
                    closing,
                    f"expected ')' to close the '(' at position {opening.pos}, "
                    f"found {closing.describe()}",
                )
            self.advance()
            self.depth -= 1
        else:
            expr = self.parse_comparison()
        self.depth -= nots
        for _ in range(nots):
            expr = Not(expr)
        return expr

    # -- comparisons ---------------------------------------------------------------------------

    def parse_identifier(self) -> tuple[Entity, str, Token]:
        token = self.peek()
        if token.kind != "word" or token.text.upper() in _KEYWORDS:
            raise self.fail(token, f"expected a comparison{self.after()}, found {token.describe()}")
        self.advance()
        prefix, dot, key = token.text.partition(".")
        entity = _ENTITIES.get(prefix.lower())
        if not dot:
            if entity is not None:
                raise self.fail(token, f"{prefix!r} needs a key, as in {prefix}.<key>")
            entity, key = Entity.ATTRIBUTE, prefix
        elif entity is None:
            known = ", ".join(_ENTITIES)
            raise self.fail(token, f"unknown entity {prefix!r}; expected one of: {known}")
        elif not key:
            quoted = self.peek()
            if quoted.pos != token.end or quoted.kind not in ("string", "backtick"):
                raise self.fail(quoted, f"expected a key right after {token.text!r}")
            if quoted.quote == "'":
                raise self.fail(quoted, "quote keys with double quotes or backticks, not '")
            key = str(self.advance().value)
            if not key:
                raise self.fail(quoted, "empty key")
        if entity is Entity.ATTRIBUTE:
            if key.lower() not in _ATTRIBUTES:
                known = ", ".join(ATTRIBUTE_KEYS)
                raise self.fail(token, f"unknown attribute {key!r}; expected one of: {known}")
            key = _ATTRIBUTES[key.lower()]
        elif entity is Entity.DATASET and key not in DATASET_KEYS:
            known = ", ".join(DATASET_KEYS)
            raise self.fail(token, f"unknown dataset field {key!r}; expected one of: {known}")
        return entity, key, token

    def parse_comparison(self) -> Comparison:
        entity, key, start = self.parse_identifier()
        name = self.text[start.pos : self.tokens[self.index - 1].end]
        token = self.advance()
        if token.kind == "op":
            op = _COMPARE[token.text]
        elif token.is_keyword("LIKE", "ILIKE", "IN"):
            op = token.text.upper()
        elif token.is_keyword("NOT"):
            if not self.peek().is_keyword("IN"):
                raise self.fail(
                    self.peek(), f"expected IN after NOT, found {self.peek().describe()}"
                )
            self.advance()
            op = "NOT IN"
        elif token.is_keyword("IS"):
            negated = self.peek().is_keyword("NOT")
            if negated:
                self.advance()
            null = self.advance()
            if not null.is_keyword("NULL"):
                raise self.fail(null, f"expected NULL after {token.text}, found {null.describe()}")
            return Comparison(entity, key, "IS NOT NULL" if negated else "IS NULL", None)
        else:
            raise self.fail(
                token,
                f"expected a comparator ({_COMPARATOR_LIST}) after {name!r}, "
                f"found {token.describe()}",
            )
        values = self.parse_list() if op.endswith("IN") else [self.parse_literal()]
        return _check(self, entity, key, op, token, values)

    def parse_literal(self) -> Token:
        token = self.peek()
        if token.kind in ("string", "number"):
            return self.advance()
        if token.kind == "backtick":
            raise self.fail(token, "backticks quote keys; quote values with ' or \"")
        if token.is_keyword("NULL"):
            raise self.fail(token, "test for a missing value with IS NULL or IS NOT NULL")
        hint = f"; quote text as '{token.text}'" if token.kind == "word" else ""
        raise self.fail(token, f"expected a value{self.after()}, found {token.describe()}{hint}")

    def parse_list(self) -> list[Token]:
        opening = self.peek()
        if opening.kind != "(":
            raise self.fail(opening, f"expected '(' after IN, found {opening.describe()}")
        self.advance()
        if self.peek().kind == ")":
            raise self.fail(self.peek(), "IN needs at least one value")
        values = [self.parse_literal()]
        while self.peek().kind == ",":
            self.advance()
            values.append(self.parse_literal())
        closing = self.peek()
        if closing.kind != ")":
            found = closing.describe()
            raise self.fail(closing, f"expected ',' or ')' in the IN list, found {found}")
        self.advance()
        return values


def _combine(op: str, operands: list[Expr]) -> Expr:
    if len(operands) == 1:
        return operands[0]
    flat: list[Expr] = []
    for operand in operands:
        if isinstance(operand, BoolOp) and operand.op == op:
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return BoolOp(op, tuple(flat))


def _check(
    parser: _Parser, entity: Entity, key: str, op: str, op_token: Token, values: list[Token]
) -> Comparison:
    """Apply the type rules: metrics and numeric attributes take numbers, text takes strings."""
    if entity in (Entity.METRIC, Entity.PARAM, Entity.TAG):
        subject = f"{entity.value} compare"
    else:
        subject = f"{entity.value}.{key} compares"
    if entity is Entity.METRIC or (entity is Entity.ATTRIBUTE and key in NUMERIC_ATTRIBUTES):
        wants = "number"
    else:
        wants = "any" if entity is Entity.PARAM else "string"
    if op in ("LIKE", "ILIKE"):
        if wants == "number":
            raise parser.fail(op_token, f"{op} does not apply here: {subject} with numbers")
        if values[0].kind != "string":
            raise parser.fail(values[0], f"{op} needs a string pattern, found {values[0].text}")
    for value in values:
        if wants == "number" and value.kind != "number":
            raise parser.fail(value, f"{subject} with numbers, found {value.text}")
        if wants == "string" and value.kind != "string":
            text = value.text
            raise parser.fail(value, f"{subject} with strings, found {text}; quote it: '{text}'")
        if value.kind != values[0].kind:
            raise parser.fail(value, "an IN list cannot mix strings and numbers")
    literals: list[str | int | float] = [value.value for value in values]
    if entity is Entity.ATTRIBUTE and key == "status" and op not in ("LIKE", "ILIKE"):
        for index, value in enumerate(values):
            status = str(value.value).upper()
            if status not in _STATUSES:
                known = ", ".join(_STATUSES)
                raise parser.fail(value, f"status must be one of {known}, found {value.text}")
            literals[index] = status
    literal: Literal = tuple(literals) if op in ("IN", "NOT IN") else literals[0]
    return Comparison(entity, key, op, literal)


def parse_filter(text: str | None) -> Expr | None:
    """Parse a search filter; ``None`` or a blank filter means "no filter" and gives ``None``."""
    if text is None:
        return None
    parser = _Parser(text, "filter")
    if parser.peek().kind == "end":
        return None
    expr = parser.parse_or()
    token = parser.peek()
    if token.kind == ")":
        raise parser.fail(token, "unbalanced ')': no '(' to close")
    if token.kind != "end":
        found = token.describe()
        raise parser.fail(token, f"expected AND, OR or the end{parser.after()}, found {found}")
    return expr


def parse_order_by(items: Sequence[str] | None) -> tuple[OrderBy, ...]:
    """Parse order_by items such as ``metrics.acc DESC``; the direction defaults to ascending."""
    if isinstance(items, str):
        message = "order_by takes a list of items, not a single string"
        raise InvalidFilter(message, details={"position": 0, "token": items[:40]})
    return tuple(_parse_order_item(item, index) for index, item in enumerate(items or ()))


def _parse_order_item(item: str, index: int) -> OrderBy:
    label = f"order_by item {index}"
    if not isinstance(item, str):
        message = f"{label} must be a string, found {type(item).__name__}"
        raise InvalidFilter(message, details={"position": 0, "token": ""})
    parser = _Parser(item, label)
    if parser.peek().kind == "end":
        raise parser.fail(parser.peek(), "expected a key to order by, found nothing")
    entity, key, start = parser.parse_identifier()
    if entity is Entity.DATASET:
        raise parser.fail(start, "runs cannot be ordered by datasets")
    descending = False
    if parser.peek().is_keyword("ASC", "DESC"):
        descending = parser.advance().text.upper() == "DESC"
    token = parser.peek()
    if token.kind != "end":
        found = token.describe()
        raise parser.fail(token, f"expected ASC, DESC or the end{parser.after()}, found {found}")
    return OrderBy(entity, key, descending)
