"""Contract: ``search_runs`` on a small hand-made population, one rule per test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from keel.core.ids import new_id
from keel.core.pagination import decode_page_token
from keel.errors import InvalidArgument, InvalidFilter
from keel.testing._contract_base import ContractBase, description, new_experiment, new_run
from keel.tracking.models import MetricRecord, RunStatus, ViewType
from keel.tracking.query import BoolOp, Comparison, Entity, Expr, Literal, Not, OrderBy
from keel.tracking.store import MetadataStore


def m(key: str, op: str, value: Literal = None) -> Comparison:
    return Comparison(Entity.METRIC, key, op, value)


def p(key: str, op: str, value: Literal = None) -> Comparison:
    return Comparison(Entity.PARAM, key, op, value)


def t(key: str, op: str, value: Literal = None) -> Comparison:
    return Comparison(Entity.TAG, key, op, value)


def a(key: str, op: str, value: Literal = None) -> Comparison:
    return Comparison(Entity.ATTRIBUTE, key, op, value)


def d(key: str, op: str, value: Literal = None) -> Comparison:
    return Comparison(Entity.DATASET, key, op, value)


def AND(*operands: Expr) -> BoolOp:
    return BoolOp("AND", operands)


def OR(*operands: Expr) -> BoolOp:
    return BoolOp("OR", operands)


@dataclass
class Population:
    """Four active runs (alpha, beta, Gamma, delta), one deleted (eps) and one elsewhere."""

    store: MetadataStore
    experiment_id: str
    other_experiment_id: str
    ids: dict[str, str]

    def names(
        self,
        expr: Expr | None,
        order_by: Sequence[OrderBy] = (),
        view: ViewType = ViewType.ACTIVE_ONLY,
        experiment_ids: Sequence[str] | None = None,
    ) -> list[str]:
        page = self.store.runs.search_runs(
            [self.experiment_id] if experiment_ids is None else experiment_ids,
            expr, order_by, view=view,
        )
        assert page.next_page_token is None
        by_id = {run_id: name for name, run_id in self.ids.items()}
        return [by_id[run.run_id] for run in page]

    def matching(self, expr: Expr) -> set[str]:
        return set(self.names(expr))


def _build(store: MetadataStore) -> Population:
    exp = new_experiment(store)
    other = new_experiment(store)
    e = exp.experiment_id
    alpha = new_run(store, e, name="alpha", start_time=1_000, user="alice",
                    tags={"team": "Risk", "note": "a_b"})
    beta = new_run(store, e, name="beta", start_time=2_000, user="bob", tags={"team": "risk"})
    gamma = new_run(store, e, name="Gamma", start_time=3_000, user=None,
                    tags={"team": "ops", "note": "a%b"})
    delta = new_run(store, e, name="delta", start_time=3_000, user="alice",
                    parent_run_id=alpha.run_id, tags={"path": "C:\\x_y"})
    eps = new_run(store, e, name="eps", start_time=5_000)
    elsewhere = new_run(store, other.experiment_id, name="elsewhere", start_time=9_000)
    runs = store.runs
    runs.update_run(alpha.run_id, status=RunStatus.FINISHED, end_time=2_000)
    runs.update_run(gamma.run_id, status=RunStatus.FAILED, end_time=3_500)
    runs.update_run(delta.run_id, status=RunStatus.FINISHED, end_time=4_000)
    runs.update_run(eps.run_id, status=RunStatus.FINISHED, end_time=6_000)
    runs.set_run_stage(eps.run_id, "deleted")
    runs.log_params(alpha.run_id, [("lr", "0.01", "float"), ("layers", "3", "int"),
                                   ("opt", "adam", "str")])
    runs.log_params(beta.run_id, [("lr", "0.1", "float"), ("layers", "10", "int"),
                                  ("opt", "sgd", "str")])
    runs.log_params(gamma.run_id, [("lr", "nan", "float"), ("layers", "3", "str")])
    runs.log_metrics([
        MetricRecord(alpha.run_id, "acc", 0.1, 0, 10), MetricRecord(alpha.run_id, "acc", 0.9, 1, 5),
        MetricRecord(alpha.run_id, "loss", 0.3, 0, 1),
        MetricRecord(beta.run_id, "acc", 0.5, 0, 1),
        MetricRecord(beta.run_id, "loss", math.nan, 0, 1),
        MetricRecord(gamma.run_id, "acc", math.inf, 0, 1),
        MetricRecord(gamma.run_id, "loss", -math.inf, 0, 1),
        MetricRecord(eps.run_id, "acc", 1.0, 0, 1),
        MetricRecord(elsewhere.run_id, "acc", 0.95, 0, 1),
    ])
    datasets = store.datasets
    iris1, _ = datasets.get_or_create_dataset_version(new_id(), "iris", description("i1"), 1)
    iris2, _ = datasets.get_or_create_dataset_version(new_id(), "iris", description("i2"), 2)
    wine1, _ = datasets.get_or_create_dataset_version(new_id(), "wine", description("w1"), 3)
    datasets.log_run_inputs(alpha.run_id, [(iris1.dataset_version_id, "train")])
    datasets.log_run_inputs(beta.run_id, [(iris2.dataset_version_id, "test"),
                                          (wine1.dataset_version_id, "train")])
    ids = {"alpha": alpha.run_id, "beta": beta.run_id, "Gamma": gamma.run_id,
           "delta": delta.run_id, "eps": eps.run_id, "elsewhere": elsewhere.run_id}
    return Population(store, e, other.experiment_id, ids)


CASES: list[tuple[Expr, set[str]]] = [
    # metrics: the latest value; NaN never matches; a missing key only matches IS NULL
    (m("acc", ">", 0.6), {"alpha", "Gamma"}),
    (m("acc", ">=", 0.5), {"alpha", "beta", "Gamma"}),
    (m("acc", "<", 0.9), {"beta"}),
    (m("acc", "<=", 0.9), {"alpha", "beta"}),
    (m("acc", "=", 0.5), {"beta"}),
    (m("acc", "=", 1), set()),
    (m("acc", "!=", 0.5), {"alpha", "Gamma"}),
    (m("acc", "<", 0.2), set()),
    (m("acc", "=", math.inf), {"Gamma"}),
    (m("loss", "<", 0), {"Gamma"}),
    (m("loss", "!=", 0.3), {"Gamma"}),
    (m("loss", "IN", (0.3, -math.inf)), {"alpha", "Gamma"}),
    (m("loss", "NOT IN", (0.3,)), {"Gamma"}),
    (m("loss", "=", math.nan), set()),
    (m("loss", "!=", math.nan), set()),
    (m("acc", "IS NULL"), {"delta"}),
    (m("loss", "IS NOT NULL"), {"alpha", "beta", "Gamma"}),
    # params: text for a string literal, numbers only for int/float params
    (p("lr", "=", "0.01"), {"alpha"}),
    (p("lr", "=", 0.01), {"alpha"}),
    (p("lr", ">", 0.05), {"beta"}),
    (p("lr", "!=", 0.01), {"beta"}),
    (p("layers", "=", 3), {"alpha"}),
    (p("layers", "=", "3"), {"alpha", "Gamma"}),
    (p("layers", ">", 5), {"beta"}),
    (p("layers", ">", "2"), {"alpha", "Gamma"}),
    (p("layers", "IN", (3, 10)), {"alpha", "beta"}),
    (p("layers", "IN", ("3",)), {"alpha", "Gamma"}),
    (p("opt", "!=", "adam"), {"beta"}),
    (p("opt", "NOT IN", ("sgd",)), {"alpha"}),
    (p("opt", "IS NULL"), {"Gamma", "delta"}),
    (p("opt", "LIKE", "a%"), {"alpha"}),
    (p("opt", "LIKE", "A%"), set()),
    (p("opt", "ILIKE", "A%"), {"alpha"}),
    # tags: text; LIKE is case-sensitive with % and _ as the only wildcards
    (t("team", "=", "risk"), {"beta"}),
    (t("team", "ILIKE", "RISK"), {"alpha", "beta"}),
    (t("team", "LIKE", "R%"), {"alpha"}),
    (t("team", "LIKE", "_isk"), {"alpha", "beta"}),
    (t("team", "<", "pp"), {"alpha", "Gamma"}),
    (t("team", "!=", "ops"), {"alpha", "beta"}),
    (t("team", "IS NULL"), {"delta"}),
    (t("note", "LIKE", "a_b"), {"alpha", "Gamma"}),
    (t("note", "=", "a%b"), {"Gamma"}),
    (t("note", "LIKE", "a[%"), set()),
    (t("path", "LIKE", "C:\\x%"), {"delta"}),
    (t("path", "LIKE", "C:\\x\\_y"), set()),
    (t("path", "ILIKE", "c:\\X_Y"), {"delta"}),
    # attributes
    (a("status", "=", "FINISHED"), {"alpha", "delta"}),
    (a("status", "IN", ("RUNNING", "FAILED")), {"beta", "Gamma"}),
    (a("status", "!=", "RUNNING"), {"alpha", "Gamma", "delta"}),
    (a("run_name", "=", "alpha"), {"alpha"}),
    (a("run_name", "LIKE", "g%"), set()),
    (a("run_name", "ILIKE", "g%"), {"Gamma"}),
    (a("user", "IS NULL"), {"Gamma"}),
    (a("user", "=", "alice"), {"alpha", "delta"}),
    (a("user", "!=", "alice"), {"beta"}),
    (a("user", "NOT IN", ("bob",)), {"alpha", "delta"}),
    (a("start_time", ">=", 3_000), {"Gamma", "delta"}),
    (a("start_time", "<", 2_000.5), {"alpha", "beta"}),
    (a("start_time", "IN", (1_000, 3_000)), {"alpha", "Gamma", "delta"}),
    (a("end_time", "IS NULL"), {"beta"}),
    (a("end_time", ">", 3_000), {"Gamma", "delta"}),
    (a("end_time", "!=", 2_000), {"Gamma", "delta"}),
    (a("parent_run_id", "IS NOT NULL"), {"delta"}),
    # datasets: any input of the run; IS NULL means no inputs
    (d("name", "=", "iris"), {"alpha", "beta"}),
    (d("name", "=", "wine"), {"beta"}),
    (d("name", "!=", "iris"), {"beta"}),
    (d("context", "=", "test"), {"beta"}),
    (d("digest", "IN", ("i1", "w1")), {"alpha", "beta"}),
    (d("name", "LIKE", "w%"), {"beta"}),
    (d("name", "IS NULL"), {"Gamma", "delta"}),
    (d("context", "IS NOT NULL"), {"alpha", "beta"}),
    # composition; NOT is the complement, so it includes runs without the key
    (AND(m("acc", ">", 0.6), t("team", "=", "ops")), {"Gamma"}),
    (OR(p("opt", "=", "sgd"), a("user", "IS NULL")), {"beta", "Gamma"}),
    (Not(m("acc", ">", 0.6)), {"beta", "delta"}),
    (Not(a("user", "=", "alice")), {"beta", "Gamma"}),
    (Not(OR(t("team", "ILIKE", "risk"), d("name", "IS NULL"))), set()),
    (AND(OR(a("user", "=", "alice"), m("acc", "=", 0.5)), Not(p("opt", "=", "adam"))),
     {"beta", "delta"}),
    (AND(), {"alpha", "beta", "Gamma", "delta"}),
    (OR(), set()),
]


class SearchContract(ContractBase):
    @pytest.fixture
    def population(self, store: MetadataStore) -> Population:
        return _build(store)

    def test_every_operator_on_every_entity_follows_the_query_semantics(
        self, population: Population
    ) -> None:
        wrong = {}
        for expr, expected in CASES:
            got = population.matching(expr)
            if got != expected:
                wrong[repr(expr)] = (sorted(got), sorted(expected))
        assert wrong == {}, "filters that returned the wrong runs (got, expected)"

    def test_attribute_filters_on_ids(self, population: Population) -> None:
        ids = population.ids
        assert population.matching(a("run_id", "IN", (ids["alpha"], ids["beta"]))) == {
            "alpha", "beta"
        }
        assert population.matching(a("parent_run_id", "=", ids["alpha"])) == {"delta"}
        everyone = {"alpha", "beta", "Gamma", "delta"}
        assert population.matching(a("experiment_id", "=", population.experiment_id)) == everyone

    def test_no_filter_returns_active_runs_newest_first_then_by_run_id(
        self, population: Population
    ) -> None:
        tied = sorted(["Gamma", "delta"], key=lambda name: population.ids[name])
        assert population.names(None) == [*tied, "beta", "alpha"]

    def test_view_type_selects_lifecycle_stages(self, population: Population) -> None:
        assert population.names(None, view=ViewType.DELETED_ONLY) == ["eps"]
        assert set(population.names(None, view=ViewType.ALL)) == {
            "alpha", "beta", "Gamma", "delta", "eps"
        }
        assert population.names(m("acc", "=", 1), view=ViewType.ALL) == ["eps"]

    def test_search_covers_only_the_given_experiments(self, population: Population) -> None:
        both = [population.experiment_id, population.other_experiment_id]
        assert population.names(m("acc", ">", 0.92), experiment_ids=both) == [
            "elsewhere", "Gamma"
        ]
        assert population.names(None, experiment_ids=[population.other_experiment_id]) == [
            "elsewhere"
        ]
        assert population.names(None, experiment_ids=[]) == []
        assert population.names(None, experiment_ids=[new_id()]) == []

    @pytest.mark.parametrize(
        ("order", "expected"),
        [
            (OrderBy(Entity.METRIC, "acc"), ["beta", "alpha", "Gamma", "delta"]),
            (OrderBy(Entity.METRIC, "acc", True), ["Gamma", "alpha", "beta", "delta"]),
            (OrderBy(Entity.METRIC, "loss"), ["Gamma", "alpha", "beta", "delta"]),
            (OrderBy(Entity.METRIC, "loss", True), ["alpha", "Gamma", "beta", "delta"]),
            (OrderBy(Entity.PARAM, "lr"), ["alpha", "beta", "Gamma", "delta"]),
            (OrderBy(Entity.PARAM, "lr", True), ["Gamma", "beta", "alpha", "delta"]),
            (OrderBy(Entity.TAG, "team", True), ["beta", "Gamma", "alpha", "delta"]),
            (OrderBy(Entity.ATTRIBUTE, "run_name"), ["Gamma", "alpha", "beta", "delta"]),
            (OrderBy(Entity.ATTRIBUTE, "end_time"), ["alpha", "Gamma", "delta", "beta"]),
            (OrderBy(Entity.ATTRIBUTE, "end_time", True), ["delta", "Gamma", "alpha", "beta"]),
            (OrderBy(Entity.ATTRIBUTE, "start_time"), ["alpha", "beta", "?", "?"]),
        ],
        ids=repr,
    )
    def test_order_by_puts_missing_values_last_in_both_directions(
        self, population: Population, order: OrderBy, expected: list[str]
    ) -> None:
        got = population.names(None, [order])
        tied = sorted(["Gamma", "delta"], key=lambda name: population.ids[name])
        expected = [*expected[:2], *tied] if "?" in expected else expected
        assert got == expected

    def test_ties_are_broken_by_start_time_descending_then_run_id(
        self, population: Population
    ) -> None:
        tied = sorted(["Gamma", "delta"], key=lambda name: population.ids[name])
        by_opt = population.names(None, [OrderBy(Entity.PARAM, "opt")])
        assert by_opt == ["alpha", "beta", *tied]
        by_user = population.names(
            None, [OrderBy(Entity.ATTRIBUTE, "user"), OrderBy(Entity.METRIC, "acc", True)]
        )
        assert by_user == ["alpha", "delta", "beta", "Gamma"]

    def test_pages_cover_every_matching_run_exactly_once(self, population: Population) -> None:
        store = population.store
        order = [OrderBy(Entity.METRIC, "acc", True)]
        full = population.names(None, order, view=ViewType.ALL)
        for size in range(1, len(full) + 2):
            seen: list[str] = []
            offset, tokens = 0, 0
            while True:
                page = store.runs.search_runs(
                    [population.experiment_id], None, order, view=ViewType.ALL,
                    max_results=size, offset=offset,
                )
                by_id = {v: k for k, v in population.ids.items()}
                seen.extend(by_id[run.run_id] for run in page)
                assert len(page) <= size
                if page.next_page_token is None:
                    break
                tokens += 1
                offset = decode_page_token(page.next_page_token)
            assert seen == full
            assert tokens == (len(full) - 1) // size

    def test_search_results_carry_params_tags_and_latest_metrics(
        self, population: Population
    ) -> None:
        store = population.store
        page = store.runs.search_runs([population.experiment_id], None, [], view=ViewType.ALL)
        for run in page:
            expected = store.runs.get_run(run.run_id)
            assert dict(run.params) == dict(expected.params)
            assert dict(run.tags) == dict(expected.tags)
            assert run.metrics.keys() == expected.metrics.keys()
            assert (run.name, run.status, run.end_time) == (
                expected.name, expected.status, expected.end_time
            )
        alpha = next(r for r in page if r.run_id == population.ids["alpha"])
        assert alpha.metrics["acc"].value == 0.9 and alpha.params["lr"].text == "0.01"

    @pytest.mark.parametrize(
        "bad",
        [
            m("acc", "LIKE", "1%"),
            m("acc", "=", "high"),
            a("nope", "=", "x"),
            a("start_time", "LIKE", "1%"),
            a("start_time", ">", "yesterday"),
            d("size", "=", "x"),
            Comparison(Entity.TAG, "team", "~", "x"),
            t("team", "=", None),
            t("team", "IN", "risk"),
            t("team", "=", ("a", "b")),
        ],
        ids=repr,
    )
    def test_malformed_filters_raise_invalid_filter(
        self, store: MetadataStore, bad: Expr
    ) -> None:
        exp = new_experiment(store)
        with pytest.raises(InvalidFilter):
            store.runs.search_runs([exp.experiment_id], bad, [])

    def test_malformed_orders_and_pages_raise_invalid_argument(
        self, store: MetadataStore
    ) -> None:
        e = [new_experiment(store).experiment_id]
        with pytest.raises(InvalidArgument):
            store.runs.search_runs(e, None, [OrderBy(Entity.DATASET, "name")])
        with pytest.raises(InvalidArgument):
            store.runs.search_runs(e, None, [OrderBy(Entity.ATTRIBUTE, "nope")])
        with pytest.raises(InvalidArgument):
            store.runs.search_runs(e, None, [], max_results=0)
        with pytest.raises(InvalidArgument):
            store.runs.search_runs(e, None, [], offset=-1)
