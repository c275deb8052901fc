"""Contract: ``search_runs`` equals a brute-force evaluation on random runs, filters and orders."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core.ids import new_id
from keel.core.pagination import decode_page_token
from keel.testing._contract_base import ContractBase, description, new_experiment
from keel.testing._search_oracle import RunFacts, expected_ids, latest_points
from keel.tracking.models import MetricRecord, RunStatus, ViewType
from keel.tracking.query import (
    COMPARATORS,
    BoolOp,
    Comparison,
    Entity,
    Expr,
    Not,
    OrderBy,
)
from keel.tracking.store import MetadataStore

TEXTS = ["", "a", "A", "ab", "aB", "a_b", "a%b", "b", "ba", "z", "é"]
PATTERNS = ["a%", "%b", "_", "a_b", "%", "A%", "%a%", "ab", "", "_b%", "a%b"]
NUMBERS = [0, 1, -1, 0.5, 10, 2.5, math.inf, -math.inf]
METRIC_VALUES = [0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan]
PARAM_VALUES = [("1", "int"), ("10", "int"), ("-2", "int"), ("0.5", "float"), ("nan", "float"),
                ("inf", "float"), ("1e-05", "float"), ("1", "str"), ("abc", "str"),
                ("ABC", "str"), ("true", "bool"), ("", "none")]
STATUSES = [s.value for s in RunStatus]

_run = st.fixed_dictionaries(
    {
        "name": st.sampled_from(TEXTS[1:]),
        "status": st.sampled_from(STATUSES),
        "start_time": st.integers(0, 3),
        "end_time": st.none() | st.integers(0, 3),
        "user": st.none() | st.sampled_from(["u", "U", "v"]),
        "deleted": st.booleans(),
        "params": st.dictionaries(st.sampled_from(["p1", "p2"]), st.sampled_from(PARAM_VALUES)),
        "tags": st.dictionaries(st.sampled_from(["t1", "t2"]), st.sampled_from(TEXTS)),
        "points": st.lists(
            st.tuples(st.sampled_from(["m1", "m2"]), st.sampled_from(METRIC_VALUES),
                      st.integers(0, 2), st.integers(0, 2)),
            max_size=4,
        ),
        "inputs": st.lists(
            st.tuples(st.sampled_from(["d1", "d2"]), st.sampled_from(["x", "y"]),
                      st.sampled_from(["train", "test"])),
            max_size=2,
        ),
    }
)


def _numbers(op: str) -> st.SearchStrategy[Any]:
    if op in ("IN", "NOT IN"):
        return st.lists(st.sampled_from(NUMBERS), max_size=3).map(tuple)
    return st.sampled_from(NUMBERS)


def _texts(op: str) -> st.SearchStrategy[Any]:
    if op in ("IN", "NOT IN"):
        return st.lists(st.sampled_from(TEXTS), max_size=3).map(tuple)
    if op in ("LIKE", "ILIKE"):
        return st.sampled_from(PATTERNS)
    return st.sampled_from(TEXTS)


_NUMERIC_OPS = [*COMPARATORS, "IN", "NOT IN"]
_TEXT_OPS = [*COMPARATORS, "IN", "NOT IN", "LIKE", "ILIKE"]
_NULL_OPS = ["IS NULL", "IS NOT NULL"]


_KEYS = {
    Entity.METRIC: ["m1", "m2", "m3"],
    Entity.PARAM: ["p1", "p2", "p3"],
    Entity.TAG: ["t1", "t2", "t3"],
    Entity.ATTRIBUTE: ["run_name", "status", "user", "start_time", "end_time"],
    Entity.DATASET: ["name", "digest", "context"],
}
_DATASET_VALUES = {"name": ["d1", "d2", "d%"], "digest": ["x", "y"], "context": ["train", "t%"]}


def _operators(entity: Entity, key: str) -> list[str]:
    numeric = entity is Entity.METRIC or key in ("start_time", "end_time")
    return (_NUMERIC_OPS if numeric else _TEXT_OPS) + _NULL_OPS


@st.composite
def _comparison_for(draw: st.DrawFn, entity: Entity, op: str | None = None) -> Comparison:
    """A comparison on ``entity`` (with operator ``op``, or a random one that applies)."""
    keys = _KEYS[entity]
    if op is not None and op not in _TEXT_OPS + _NULL_OPS:
        raise ValueError(op)
    if op in ("LIKE", "ILIKE") and entity is Entity.ATTRIBUTE:
        keys = ["run_name", "status", "user"]
    key = draw(st.sampled_from(keys))
    if op is None or op not in _operators(entity, key):
        op = draw(st.sampled_from(_operators(entity, key)))
    value: Any = None
    if op in _NULL_OPS:
        value = None
    elif entity is Entity.METRIC or key in ("start_time", "end_time"):
        value = draw(_numbers(op))
    elif entity is Entity.PARAM:
        numeric = op not in ("LIKE", "ILIKE") and draw(st.booleans())
        value = draw(_numbers(op) if numeric else _texts(op))
    elif entity is Entity.DATASET or key == "status":
        choices = STATUSES if key == "status" else _DATASET_VALUES[key]
        if op in ("IN", "NOT IN"):
            value = tuple(draw(st.lists(st.sampled_from(choices), max_size=3)))
        elif op in ("LIKE", "ILIKE"):
            value = draw(st.sampled_from([*PATTERNS, "%n%", "F%", "f%"]))
        else:
            value = draw(st.sampled_from(choices))
    else:
        value = draw(_texts(op))
    return Comparison(entity, key, op, value)


_comparison = st.sampled_from(list(Entity)).flatmap(lambda entity: _comparison_for(entity))

# One comparison for every entity and operator: each example checks all of them.
_every_comparison = st.tuples(
    *[_comparison_for(entity, op) for entity in Entity for op in _TEXT_OPS + _NULL_OPS]
)

_expr: st.SearchStrategy[Expr] = st.recursive(
    _comparison,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.builds(
            lambda op, operands: BoolOp(op, tuple(operands)),
            st.sampled_from(["AND", "OR"]),
            st.lists(children, min_size=1, max_size=3),
        ),
    ),
    max_leaves=5,
)

@st.composite
def _order_by(draw: st.DrawFn) -> OrderBy:
    entity = draw(st.sampled_from([Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE]))
    keys = {
        Entity.METRIC: ["m1", "m2", "m3"],
        Entity.PARAM: ["p1", "p2"],
        Entity.TAG: ["t1", "t2"],
        Entity.ATTRIBUTE: ["run_name", "status", "start_time", "end_time", "user"],
    }[entity]
    return OrderBy(entity, draw(st.sampled_from(keys)), draw(st.booleans()))


def _populate(store: MetadataStore, specs: list[dict[str, Any]]) -> tuple[str, list[RunFacts]]:
    exp = new_experiment(store)
    facts: list[RunFacts] = []
    versions: dict[tuple[str, str], str] = {}
    points: list[MetricRecord] = []
    for spec in specs:
        run_id = new_id()
        store.runs.create_run(run_id, exp.experiment_id, spec["name"], spec["start_time"],
                              "file:///x", None, spec["user"], spec["tags"])
        if spec["status"] != "RUNNING" or spec["end_time"] is not None:
            store.runs.update_run(run_id, status=RunStatus(spec["status"]),
                                  end_time=spec["end_time"])
        if spec["deleted"]:
            store.runs.set_run_stage(run_id, "deleted")
        if spec["params"]:
            store.runs.log_params(run_id, [(k, text, kind)
                                           for k, (text, kind) in spec["params"].items()])
        points.extend(MetricRecord(run_id, k, v, s, t) for k, v, s, t in spec["points"])
        inputs = []
        for name, digest, context in spec["inputs"]:
            if (name, digest) not in versions:
                version, _ = store.datasets.get_or_create_dataset_version(
                    new_id(), name, description(digest), 1
                )
                versions[(name, digest)] = version.dataset_version_id
            inputs.append((versions[(name, digest)], context))
        if inputs:
            store.datasets.log_run_inputs(run_id, inputs)
        facts.append(RunFacts(
            run_id=run_id, experiment_id=exp.experiment_id, name=spec["name"],
            status=spec["status"], start_time=spec["start_time"], end_time=spec["end_time"],
            user=spec["user"], lifecycle_stage="deleted" if spec["deleted"] else "active",
            params=dict(spec["params"]), tags=dict(spec["tags"]),
            metrics=latest_points(spec["points"]), inputs=sorted(set(spec["inputs"])),
        ))
    store.runs.log_metrics(points)
    return exp.experiment_id, facts


_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    # Examples run against a store shared by the test (each builds its own experiment), and
    # each backend's subclass is a different executor of the same test on purpose.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)


class SearchPropertyContract(ContractBase):
    @_SETTINGS
    @given(
        specs=st.lists(_run, min_size=1, max_size=6),
        comparisons=_every_comparison,
        filters=st.lists(_expr | st.none(), min_size=1, max_size=6),
        order=st.lists(_order_by(), max_size=2),
        view=st.sampled_from(list(ViewType)),
        page_size=st.integers(1, 4),
    )
    def test_search_matches_a_brute_force_evaluation(
        self,
        store: MetadataStore,
        specs: list[dict[str, Any]],
        comparisons: tuple[Comparison, ...],
        filters: list[Expr | None],
        order: list[OrderBy],
        view: ViewType,
        page_size: int,
    ) -> None:
        experiment_id, facts = _populate(store, specs)
        for expr in [*comparisons, *filters]:
            expected = expected_ids(facts, expr, order, view)
            got = store.runs.search_runs([experiment_id], expr, order, view=view).items
            assert [run.run_id for run in got] == expected, expr
        paged: list[str] = []
        offset = 0
        while True:
            page = store.runs.search_runs(
                [experiment_id], filters[0], order, view=view, max_results=page_size,
                offset=offset,
            )
            paged.extend(run.run_id for run in page)
            if page.next_page_token is None:
                break
            offset = decode_page_token(page.next_page_token)
        assert paged == expected_ids(facts, filters[0], order, view)
