"""The run-search filter and order_by parser: tables of valid and invalid input, and properties."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from keel.errors import InvalidFilter
from keel.tracking._filter_parser import (
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    parse_filter,
    parse_order_by,
)
from keel.tracking.query import (
    ATTRIBUTE_KEYS,
    COMPARATORS,
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


def metric(key: str, op: str, value: Literal) -> Comparison:
    return Comparison(Entity.METRIC, key, op, value)


def param(key: str, op: str, value: Literal) -> Comparison:
    return Comparison(Entity.PARAM, key, op, value)


def tag(key: str, op: str, value: Literal) -> Comparison:
    return Comparison(Entity.TAG, key, op, value)


def attr(key: str, op: str, value: Literal) -> Comparison:
    return Comparison(Entity.ATTRIBUTE, key, op, value)


def dataset(key: str, op: str, value: Literal) -> Comparison:
    return Comparison(Entity.DATASET, key, op, value)


def and_(*operands: Expr) -> BoolOp:
    return BoolOp("AND", operands)


def or_(*operands: Expr) -> BoolOp:
    return BoolOp("OR", operands)


A, B, C, D = (metric(name, ">", 1) for name in "abcd")

VALID = [
    # every comparator
    ("metrics.acc = 0.9", metric("acc", "=", 0.9)),
    ("metrics.acc == 0.9", metric("acc", "=", 0.9)),
    ("metrics.acc != 0.9", metric("acc", "!=", 0.9)),
    ("metrics.acc <> 0.9", metric("acc", "!=", 0.9)),
    ("metrics.acc < 0.9", metric("acc", "<", 0.9)),
    ("metrics.acc <= 0.9", metric("acc", "<=", 0.9)),
    ("metrics.acc > 0.9", metric("acc", ">", 0.9)),
    ("metrics.acc >= 0.9", metric("acc", ">=", 0.9)),
    ("metrics.acc>=0.9", metric("acc", ">=", 0.9)),
    ("params.model LIKE 'GPT%'", param("model", "LIKE", "GPT%")),
    ("params.model ILIKE '%gpt%'", param("model", "ILIKE", "%gpt%")),
    ("params.model like 'x'", param("model", "LIKE", "x")),
    ("tags.team IN ('risk', 'fraud')", tag("team", "IN", ("risk", "fraud"))),
    ("tags.team in ('risk')", tag("team", "IN", ("risk",))),
    ("tags.team NOT IN ('risk')", tag("team", "NOT IN", ("risk",))),
    ("tags.team not in ('a','b')", tag("team", "NOT IN", ("a", "b"))),
    ("metrics.epoch IN (1, 2, 3.5)", metric("epoch", "IN", (1, 2, 3.5))),
    ("params.depth IN (1, 2)", param("depth", "IN", (1, 2))),
    ("tags.note IS NULL", tag("note", "IS NULL", None)),
    ("tags.note is not null", tag("note", "IS NOT NULL", None)),
    ("metrics.loss IS NOT NULL", metric("loss", "IS NOT NULL", None)),
    ("end_time IS NULL", attr("end_time", "IS NULL", None)),
    # numbers
    ("metrics.x = 3", metric("x", "=", 3)),
    ("metrics.x = -3", metric("x", "=", -3)),
    ("metrics.x = +3", metric("x", "=", 3)),
    ("metrics.x = .5", metric("x", "=", 0.5)),
    ("metrics.x = 5.", metric("x", "=", 5.0)),
    ("metrics.x = -1.5e-3", metric("x", "=", -0.0015)),
    ("metrics.x = 2E10", metric("x", "=", 2e10)),
    ("metrics.x>-1", metric("x", ">", -1)),
    ("params.lr = 0.01", param("lr", "=", 0.01)),
    # strings and escapes
    ("params.lr = '0.01'", param("lr", "=", "0.01")),
    ('params.lr = "0.01"', param("lr", "=", "0.01")),
    ("tags.t = 'it''s'", tag("t", "=", "it's")),
    ("tags.t = 'it\\'s'", tag("t", "=", "it's")),
    ('tags.t = "say ""hi"""', tag("t", "=", 'say "hi"')),
    ("tags.t = 'back\\\\slash'", tag("t", "=", "back\\slash")),
    ("tags.t LIKE '100\\%'", tag("t", "LIKE", "100\\%")),
    ("tags.t = ''", tag("t", "=", "")),
    ("tags.t = 'a AND b OR (c)'", tag("t", "=", "a AND b OR (c)")),
    # entities, aliases and keys
    ("metric.acc > 1", metric("acc", ">", 1)),
    ("param.lr = 'x'", param("lr", "=", "x")),
    ("tag.team = 'x'", tag("team", "=", "x")),
    ("METRICS.acc > 1", metric("acc", ">", 1)),
    ("metrics.val/loss < 1", metric("val/loss", "<", 1)),
    ("metrics.f1-score < 1", metric("f1-score", "<", 1)),
    ("metrics.1st > 1", metric("1st", ">", 1)),
    ("params.model.depth = '3'", param("model.depth", "=", "3")),
    ("metrics.`my metric` > 1", metric("my metric", ">", 1)),
    ('params."learning.rate" = 1e-3', param("learning.rate", "=", 0.001)),
    ("tags.\"mlflow.runName\" = 'x'", tag("mlflow.runName", "=", "x")),
    ("tags.mlflow.runName = 'x'", tag("mlflow.runName", "=", "x")),
    ("tags.`a``b` = 'x'", tag("a`b", "=", "x")),
    ("tags.précision = 'x'", tag("précision", "=", "x")),
    ("datasets.name = 'iris'", dataset("name", "=", "iris")),
    ("datasets.digest IN ('a1', 'b2')", dataset("digest", "IN", ("a1", "b2"))),
    ("datasets.context = 'train'", dataset("context", "=", "train")),
    # attributes, bare and prefixed, MLflow spellings
    ("status = 'FINISHED'", attr("status", "=", "FINISHED")),
    ("attributes.status = 'failed'", attr("status", "=", "FAILED")),
    ("attribute.status != 'Killed'", attr("status", "!=", "KILLED")),
    ("run.status IN ('running', 'FINISHED')", attr("status", "IN", ("RUNNING", "FINISHED"))),
    ("attr.status LIKE 'FIN%'", attr("status", "LIKE", "FIN%")),
    ("run_name = 'baseline'", attr("run_name", "=", "baseline")),
    ("attributes.run_name ILIKE '%base%'", attr("run_name", "ILIKE", "%base%")),
    ("attributes.`run_name` = 'x'", attr("run_name", "=", "x")),
    ("run_id IN ('abc', 'def')", attr("run_id", "IN", ("abc", "def"))),
    ("user = 'ana'", attr("user", "=", "ana")),
    ("user_id = 'ana'", attr("user", "=", "ana")),
    ("attributes.user_id = 'ana'", attr("user", "=", "ana")),
    ("experiment_id = '0'", attr("experiment_id", "=", "0")),
    ("parent_run_id = 'p'", attr("parent_run_id", "=", "p")),
    ("start_time >= 1700000000000", attr("start_time", ">=", 1700000000000)),
    ("attributes.end_time < 5", attr("end_time", "<", 5)),
    ("STATUS = 'running'", attr("status", "=", "RUNNING")),
    # boolean structure, precedence and flattening
    ("metrics.a > 1 AND metrics.b > 1", and_(A, B)),
    ("metrics.a > 1 and metrics.b > 1 And metrics.c > 1", and_(A, B, C)),
    ("metrics.a > 1 OR metrics.b > 1 OR metrics.c > 1", or_(A, B, C)),
    ("metrics.a > 1 OR metrics.b > 1 AND metrics.c > 1", or_(A, and_(B, C))),
    ("metrics.a > 1 AND metrics.b > 1 OR metrics.c > 1", or_(and_(A, B), C)),
    ("(metrics.a > 1 OR metrics.b > 1) AND metrics.c > 1", and_(or_(A, B), C)),
    ("metrics.a > 1 AND (metrics.b > 1 AND metrics.c > 1)", and_(A, B, C)),
    ("(metrics.a > 1 AND metrics.b > 1) AND (metrics.c > 1 AND metrics.d > 1)", and_(A, B, C, D)),
    ("metrics.a > 1 OR (metrics.b > 1 OR (metrics.c > 1))", or_(A, B, C)),
    ("((metrics.a > 1))", A),
    ("NOT metrics.a > 1", Not(A)),
    ("not metrics.a > 1 AND metrics.b > 1", and_(Not(A), B)),
    ("NOT (metrics.a > 1 AND metrics.b > 1)", Not(and_(A, B))),
    ("NOT NOT metrics.a > 1", Not(Not(A))),
    ("NOT (metrics.a > 1) OR NOT metrics.b > 1", or_(Not(A), Not(B))),
    ("metrics.a > 1 AND NOT (metrics.b > 1 AND metrics.c > 1)", and_(A, Not(and_(B, C)))),
    ("  metrics.a > 1\n\tAND\r\nmetrics.b > 1  ", and_(A, B)),
    ("(metrics.a>1)AND(metrics.b>1)", and_(A, B)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[text for text, _ in VALID])
def test_valid_filter_parses_to_expected_tree(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_missing_or_blank_filter_means_no_filter(text: str | None) -> None:
    assert parse_filter(text) is None


INVALID = [
    # (filter, position of the bad token, words the message must contain)
    ("metrics.acc nearly 0.9", 12, "expected a comparator"),
    ("metrics.acc", 11, "expected a comparator"),
    ("metrics.acc > ", 14, "expected a value"),
    ("metrics.acc > high", 14, "quote text as 'high'"),
    ("metrics.acc = NULL", 14, "IS NULL"),
    ("metrics.acc = 'x'", 14, "metrics compare with numbers"),
    ("metrics.acc LIKE '0.9%'", 12, "LIKE does not apply"),
    ("metrics.acc IN (1, 'x')", 19, "metrics compare with numbers"),
    ("start_time > 'yesterday'", 13, "compares with numbers"),
    ("end_time ILIKE '1%'", 9, "ILIKE does not apply"),
    ("tags.team = 1", 12, "tags compare with strings"),
    ("run_name = 3", 11, "quote it: '3'"),
    ("experiment_id = 0", 16, "compares with strings"),
    ("datasets.name = 1", 16, "compares with strings"),
    ("params.model LIKE 3", 18, "LIKE needs a string pattern"),
    ("params.depth IN (1, '2')", 20, "cannot mix strings and numbers"),
    ("status = 'DONE'", 9, "RUNNING, FINISHED, FAILED, KILLED"),
    ("status IN ('RUNNING', 'paused')", 22, "status must be one of"),
    ("tags.team IN ()", 14, "at least one value"),
    ("tags.team IN 'a'", 13, "expected '('"),
    ("tags.team IN ('a' 'b')", 18, "expected ',' or ')'"),
    ("tags.team IN ('a',)", 18, "expected a value"),
    ("tags.team NOT LIKE 'a'", 14, "expected IN after NOT"),
    ("tags.team IS 'a'", 13, "expected NULL"),
    ("tags.team IS NOT", 16, "expected NULL"),
    ("tags.team = `a`", 12, "backticks quote keys"),
    ("tags.team = 'unterminated", 12, "unterminated string"),
    ('tags.team = "unterminated', 12, "unterminated string"),
    ("tags.`unterminated = 'x'", 5, "unterminated quoted key"),
    ("tags.team = 'a\\'", 12, "unterminated string"),
    ("tags.team = 'a' ;", 16, "unexpected character ';'"),
    ("tags.team = 'a' extra", 16, "expected AND, OR or the end"),
    ("metrics.a > 1 metrics.b > 1", 14, "expected AND, OR or the end"),
    ("metrics.a > 1 AND AND metrics.b > 1", 18, "expected a comparison after 'AND'"),
    ("metrics.a > 1 AND", 17, "expected a comparison after 'AND'"),
    ("AND metrics.a > 1", 0, "expected a comparison"),
    ("metrics.a > 1 OR OR metrics.b > 1", 17, "expected a comparison after 'OR'"),
    ("NOT", 3, "expected a comparison after 'NOT'"),
    ("(metrics.a > 1", 14, "expected ')' to close the '(' at position 0"),
    ("((metrics.a > 1)", 16, "expected ')'"),
    ("metrics.a > 1)", 13, "unbalanced ')'"),
    ("()", 1, "empty parentheses"),
    ("metrics.a > 1 AND ()", 19, "empty parentheses"),
    ("metrics.a > 1abc", 12, "invalid number '1abc'"),
    ("metrics.a > 1.2.3", 12, "invalid number"),
    ("metrics.a > 1e999", 12, "out of range"),
    ("metrics.a > 99999999999999999999", 12, "64-bit"),
    ("metrics.a > - 1", 12, "unexpected character '-'"),
    ("foo = 'x'", 0, "unknown attribute 'foo'"),
    ("attributes.artifact_uri = 'x'", 0, "unknown attribute 'artifact_uri'"),
    ("foo.bar = 'x'", 0, "unknown entity 'foo'"),
    ("datasets.size = 'x'", 0, "unknown dataset field 'size'"),
    ("metrics = 1", 0, "needs a key"),
    ("metrics. = 1", 9, "expected a key right after 'metrics.'"),
    ('metrics. "x" = 1', 9, "expected a key right after 'metrics.'"),
    ("metrics.'x' = 1", 8, "double quotes or backticks"),
    ('metrics."" = 1', 8, "empty key"),
    ("metrics.my metric > 1", 11, "expected a comparator"),
]


@pytest.mark.parametrize(("text", "position", "words"), INVALID, ids=[t for t, *_ in INVALID])
def test_invalid_filter_raises_invalid_filter_at_the_bad_token(
    text: str, position: int, words: str
) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    error = caught.value
    assert error.details["position"] == position
    assert words in error.message
    assert error.message.startswith(f"invalid filter at position {position}: ")
    assert error.details["token"] == "" or text[position:].startswith(error.details["token"])


def test_error_message_shows_the_filter_with_a_caret_under_the_bad_token() -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter("metrics.acc nearly 0.9")
    assert caught.value.message == (
        "invalid filter at position 12: expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE,"
        " IN, IS) after 'metrics.acc', found 'nearly'\n"
        "  metrics.acc nearly 0.9\n"
        "              ^"
    )
    assert caught.value.details == {"position": 12, "token": "nearly"}
    assert caught.value.code == "INVALID_FILTER"
    assert caught.value.http_status == 400


def test_error_in_a_long_filter_shows_a_window_around_the_bad_token() -> None:
    text = " AND ".join(["metrics.a > 1"] * 20) + " AND metrics.b ~ 2"
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    _, line, caret = caught.value.message.split("\n")
    assert len(line) < 100
    assert line[caret.index("^")] == "~"


def test_unknown_attribute_error_lists_the_known_attributes() -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter("colour = 'red'")
    for key in ATTRIBUTE_KEYS:
        assert key in caught.value.message


def test_filter_longer_than_the_limit_is_rejected() -> None:
    text = "metrics.a > 1 AND " * (MAX_FILTER_LENGTH // 18) + "metrics.a > 1"
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert "limit is 10000" in caught.value.message
    assert caught.value.details["position"] == MAX_FILTER_LENGTH


def test_filter_at_the_length_limit_parses() -> None:
    text = "tags.t = '" + "x" * (MAX_FILTER_LENGTH - 11) + "'"
    assert len(text) == MAX_FILTER_LENGTH
    assert parse_filter(text) == tag("t", "=", "x" * (MAX_FILTER_LENGTH - 11))


def test_nesting_up_to_the_limit_parses() -> None:
    text = "(" * MAX_NESTING + "metrics.a > 1" + ")" * MAX_NESTING
    assert parse_filter(text) == A
    assert parse_filter("NOT " * MAX_NESTING + "metrics.a > 1") is not None


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4000 + "metrics.a > 1" + ")" * 4000,
        "NOT " * 2400 + "metrics.a > 1",
        "NOT (" * 1500 + "metrics.a > 1" + ")" * 1500,
        "(" * 9000,
    ],
    ids=["parentheses", "nots", "mixed", "unclosed"],
)
def test_deep_nesting_is_an_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(InvalidFilter, match="nest deeper than 100"):
        parse_filter(text)


def test_long_flat_conjunction_parses_into_one_bool_op() -> None:
    text = " AND ".join(f"metrics.m{i} > {i}" for i in range(400))
    expr = parse_filter(text)
    assert isinstance(expr, BoolOp)
    assert len(expr.operands) == 400


# -- order_by ------------------------------------------------------------------------------------

ORDER_VALID = [
    ("metrics.acc DESC", OrderBy(Entity.METRIC, "acc", True)),
    ("metrics.acc desc", OrderBy(Entity.METRIC, "acc", True)),
    ("metrics.acc", OrderBy(Entity.METRIC, "acc", False)),
    ("params.lr", OrderBy(Entity.PARAM, "lr", False)),
    ("param.lr ASC", OrderBy(Entity.PARAM, "lr", False)),
    ("tags.team Asc", OrderBy(Entity.TAG, "team", False)),
    ("start_time ASC", OrderBy(Entity.ATTRIBUTE, "start_time", False)),
    ("attributes.run_name", OrderBy(Entity.ATTRIBUTE, "run_name", False)),
    ("attribute.user_id DESC", OrderBy(Entity.ATTRIBUTE, "user", True)),
    ("metrics.`my metric` DESC", OrderBy(Entity.METRIC, "my metric", True)),
    ('params."learning.rate"', OrderBy(Entity.PARAM, "learning.rate", False)),
    ("  end_time   DESC  ", OrderBy(Entity.ATTRIBUTE, "end_time", True)),
]


@pytest.mark.parametrize(("item", "expected"), ORDER_VALID, ids=[i for i, _ in ORDER_VALID])
def test_valid_order_by_item_parses(item: str, expected: OrderBy) -> None:
    assert parse_order_by([item]) == (expected,)


def test_order_by_keeps_the_order_of_items() -> None:
    assert parse_order_by(["metrics.acc DESC", "start_time"]) == (
        OrderBy(Entity.METRIC, "acc", True),
        OrderBy(Entity.ATTRIBUTE, "start_time", False),
    )


@pytest.mark.parametrize("items", [None, [], ()])
def test_missing_order_by_is_empty(items: list[str] | None) -> None:
    assert parse_order_by(items) == ()


ORDER_INVALID = [
    ("metrics.acc DOWN", 12, "expected ASC, DESC or the end after 'metrics.acc'"),
    ("metrics.acc DESC ASC", 17, "expected ASC, DESC or the end after 'DESC'"),
    ("metrics.my metric", 11, "expected ASC, DESC"),
    ("", 0, "expected a key to order by"),
    ("colour", 0, "unknown attribute 'colour'"),
    ("datasets.name", 0, "cannot be ordered by datasets"),
    ("metrics.", 8, "expected a key right after"),
    ("metrics.acc > 1", 12, "expected ASC, DESC"),
    ("DESC", 0, "unknown attribute 'DESC'"),
    ("tags.`open", 5, "unterminated quoted key"),
]


@pytest.mark.parametrize(
    ("item", "position", "words"), ORDER_INVALID, ids=[i for i, *_ in ORDER_INVALID]
)
def test_invalid_order_by_item_raises_invalid_filter(item: str, position: int, words: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_order_by(["start_time", item])
    assert caught.value.details["position"] == position
    assert caught.value.message.startswith(f"invalid order_by item 1 at position {position}: ")
    assert words in caught.value.message


def test_order_by_given_a_single_string_is_an_error() -> None:
    with pytest.raises(InvalidFilter, match="list of items"):
        parse_order_by("metrics.acc DESC")


def test_order_by_item_that_is_not_a_string_is_an_error() -> None:
    with pytest.raises(InvalidFilter, match="must be a string"):
        parse_order_by([3])  # type: ignore[list-item]


# -- properties ----------------------------------------------------------------------------------

BARE_KEY = re.compile(r"[\w\-./]+")
STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
NUMBERS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
KEYS = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), st.text(min_size=1))


@dataclass(frozen=True)
class Style:
    """How `render` spells one tree: spacing, keyword case, quotes, prefixes and parentheses."""

    space: str = " "
    upper: bool = True
    quote: str = "'"
    key_quote: str = ""
    prefix: int = 0
    wrap: bool = False


def render_string(value: str, quote: str) -> str:
    return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def render_key(key: str, style: Style) -> str:
    if not style.key_quote and BARE_KEY.fullmatch(key):
        return key
    quote = style.key_quote or "`"
    return quote + key.replace("\\", "\\\\").replace(quote, quote + quote) + quote


def render_literal(value: Literal, style: Style) -> str:
    if isinstance(value, str):
        return render_string(value, style.quote)
    if isinstance(value, tuple):
        return "(" + f",{style.space}".join(render_literal(v, style) for v in value) + ")"
    return repr(value)


def render_identifier(entity: Entity, key: str, style: Style) -> str:
    if entity is Entity.ATTRIBUTE:
        prefixes = ["", "attributes.", "attribute.", "run.", "attr."]
        name = "user_id" if key == "user" and style.prefix % 2 else key
        return prefixes[style.prefix % len(prefixes)] + name
    aliases = {Entity.METRIC: "metric", Entity.PARAM: "param", Entity.TAG: "tag"}
    prefix = aliases.get(entity, entity.value) if style.prefix % 2 else entity.value
    return f"{prefix}.{render_key(key, style)}"


def render(expr: Expr, style: Style = Style()) -> str:
    """Spell a tree as filter text (the inverse of parse_filter, in any style)."""
    sp = style.space

    def keyword(word: str) -> str:
        return word if style.upper else word.lower()

    if isinstance(expr, Comparison):
        lhs = render_identifier(expr.entity, expr.key, style)
        text = f"{lhs}{sp}{keyword(expr.op)}"
        if expr.value is not None:
            text += sp + render_literal(expr.value, style)
        return f"({text})" if style.wrap else text
    if isinstance(expr, Not):
        inner = render(expr.operand, style)
        return (
            f"{keyword('NOT')}{sp}({inner})"
            if isinstance(expr.operand, BoolOp)
            else (f"{keyword('NOT')}{sp}{inner}")
        )
    parts = [
        f"({render(operand, style)})" if isinstance(operand, BoolOp) else render(operand, style)
        for operand in expr.operands
    ]
    return f"{sp}{keyword(expr.op)}{sp}".join(parts)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    entity = draw(st.sampled_from(Entity))
    null_ops = ("IS NULL", "IS NOT NULL")
    if entity is Entity.ATTRIBUTE:
        key = draw(st.sampled_from(ATTRIBUTE_KEYS))
    elif entity is Entity.DATASET:
        key = draw(st.sampled_from(DATASET_KEYS))
    else:
        key = draw(KEYS)
    numeric = entity is Entity.METRIC or (entity is Entity.ATTRIBUTE and key in NUMERIC_ATTRIBUTES)
    is_status = entity is Entity.ATTRIBUTE and key == "status"
    texts = st.sampled_from(STATUSES) if is_status else st.text()
    values: st.SearchStrategy[str | int | float]
    if numeric:
        values = NUMBERS
    elif entity is Entity.PARAM:
        values = draw(st.sampled_from([st.text(), NUMBERS]))
    else:
        values = texts
    ops = [*COMPARATORS, "IN", "NOT IN", *null_ops]
    if entity is not Entity.METRIC and not numeric:
        ops += ["LIKE", "ILIKE"]
    op = draw(st.sampled_from(ops))
    if op in null_ops:
        return Comparison(entity, key, op, None)
    if op in ("LIKE", "ILIKE"):
        return Comparison(entity, key, op, draw(st.text()))
    if op.endswith("IN"):
        return Comparison(entity, key, op, tuple(draw(st.lists(values, min_size=1, max_size=4))))
    return Comparison(entity, key, op, draw(values))


def flatten(expr: Expr) -> Expr:
    """The shape parse_filter gives: same-op BoolOps merged into their parent."""
    if isinstance(expr, Not):
        return Not(flatten(expr.operand))
    if isinstance(expr, BoolOp):
        operands: list[Expr] = []
        for operand in map(flatten, expr.operands):
            same = isinstance(operand, BoolOp) and operand.op == expr.op
            operands.extend(operand.operands if isinstance(operand, BoolOp) and same else [operand])
        return BoolOp(expr.op, tuple(operands))
    return expr


def depth(expr: Expr) -> int:
    if isinstance(expr, Not):
        return 1 + depth(expr.operand)
    if isinstance(expr, BoolOp):
        return 1 + max(map(depth, expr.operands))
    return 0


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    bool_ops = st.builds(
        BoolOp,
        st.sampled_from(["AND", "OR"]),
        st.lists(children, min_size=2, max_size=4).map(tuple),
    )
    return st.one_of(st.builds(Not, children), bool_ops)


TREES = st.recursive(comparisons(), _extend, max_leaves=12).map(flatten)
STYLES = st.builds(
    Style,
    space=st.sampled_from([" ", "  ", "\t", "\n", " \r\n "]),
    upper=st.booleans(),
    quote=st.sampled_from(["'", '"']),
    key_quote=st.sampled_from(["", "`", '"']),
    prefix=st.integers(min_value=0, max_value=9),
    wrap=st.booleans(),
)


@given(TREES)
def test_rendered_tree_parses_back_to_the_same_tree(expr: Expr) -> None:
    assume(depth(expr) <= MAX_NESTING // 2)
    assert parse_filter(render(expr)) == expr


@given(TREES, STYLES)
def test_whitespace_quotes_aliases_and_keyword_case_do_not_change_the_tree(
    expr: Expr, style: Style
) -> None:
    assume(depth(expr) <= MAX_NESTING // 2)
    assert parse_filter(render(expr, style)) == parse_filter(render(expr)) == expr


def _parses_or_raises_invalid_filter(text: str) -> None:
    try:
        result = parse_filter(text)
    except InvalidFilter as error:
        position = error.details["position"]
        assert isinstance(position, int)
        assert 0 <= position <= len(text)
    else:
        assert result is None or isinstance(result, Comparison | BoolOp | Not)


@given(st.text())
def test_arbitrary_text_parses_or_raises_invalid_filter(text: str) -> None:
    _parses_or_raises_invalid_filter(text)


FRAGMENTS = st.sampled_from(
    [
        "metrics.a", "params.`x y`", "tags.\"t\"", "status", "start_time", "datasets.name",
        "run.", "metrics.", "=", "!=", "<>", "<=", ">", "LIKE", "ilike", "IN", "NOT", "IS",
        "NULL", "AND", "or", "(", ")", ",", "'s'", '"d"', "'", "`", "1", "-2.5e3", "1e999",
        "'RUNNING'", "\\", " ", "\n", "é", "\x00",
    ]
)  # fmt: skip


@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_token_soup_parses_or_raises_invalid_filter(text: str) -> None:
    _parses_or_raises_invalid_filter(text)


@given(st.lists(FRAGMENTS, max_size=30).map(" ".join))
def test_spaced_token_soup_parses_or_raises_invalid_filter(text: str) -> None:
    _parses_or_raises_invalid_filter(text)


@given(st.text())
def test_arbitrary_order_by_item_parses_or_raises_invalid_filter(item: str) -> None:
    try:
        result = parse_order_by([item])
    except InvalidFilter as error:
        assert 0 <= error.details["position"] <= len(item)
    else:
        assert len(result) == 1
