"""The MLflow logged-model port on SQLite and PostgreSQL, and migration 0004 (applied on a
fresh database with the whole chain, and down to 0003 and back)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from keel.backends.sql import SCHEMA_REVISION, open_sql_store
from keel.backends.sql._migrate import alembic_head
from keel.backends.sql._mlflow_models import MLFLOW_TABLES
from keel.backends.sql._store import SqlMetadataStore
from keel.errors import AlreadyExists, ExperimentNotFound, NotFound, ParamConflict
from keel.testing._contract_base import new_experiment
from keel.testing.migrations import migrate_to, table_names
from keel.tracking.logged_models import (
    OUTPUT,
    PENDING,
    READY,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelStore,
    RunModelLink,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def store(any_url: str) -> Iterator[SqlMetadataStore]:
    with open_sql_store(any_url) as opened:
        yield opened


def _typed(store: SqlMetadataStore) -> LoggedModelStore:
    return store.mlflow_models  # mypy checks here that the SQL adapter implements the port


def _model(experiment_id: str, n: int = 1, **fields: object) -> LoggedModel:
    values: dict[str, object] = {
        "model_id": f"m-{n:032x}", "experiment_id": experiment_id, "name": f"model-{n}",
        "artifact_location": f"{experiment_id}/models/m-{n:032x}/artifacts", "status": PENDING,
        "created_at": 1000 + n, "updated_at": 1000 + n, "tags": {"t": "1"},
        "params": {"p": "a"}, **fields}
    return LoggedModel(**values)  # type: ignore[arg-type]


def test_the_schema_is_at_0004() -> None:
    assert SCHEMA_REVISION == alembic_head() == "0004"


def test_logged_models_round_trip(store: SqlMetadataStore) -> None:
    models = _typed(store)
    experiment = new_experiment(store)
    created = models.create_logged_model(_model(experiment.experiment_id, creator="alice"))
    assert created == _model(experiment.experiment_id, creator="alice")
    assert models.get_logged_model(created.model_id) == created
    with pytest.raises(AlreadyExists):
        models.create_logged_model(_model(experiment.experiment_id))
    with pytest.raises(ExperimentNotFound):
        models.create_logged_model(_model("0" * 32, 2))
    with pytest.raises(NotFound):
        models.get_logged_model("m-" + "f" * 32)

    models.set_logged_model_tags(created.model_id, {"t": "2", "u": "3"}, 2000)
    models.delete_logged_model_tag(created.model_id, "u", 2001)
    with pytest.raises(NotFound):
        models.delete_logged_model_tag(created.model_id, "u", 2002)
    models.log_logged_model_params(created.model_id, {"p": "a", "q": "b"}, 2003)
    with pytest.raises(ParamConflict):
        models.log_logged_model_params(created.model_id, {"q": "c", "r": "d"}, 2004)
    models.log_logged_model_metrics(created.model_id, [
        LoggedModelMetric("acc", 0.5, 1, 10), LoggedModelMetric("acc", 0.9, 2, 5),
        LoggedModelMetric("nan", math.nan, 0, 1, run_id="r", dataset_name="d")])
    models.log_logged_model_metrics(created.model_id, [LoggedModelMetric("acc", 0.1, 1, 99)])
    ready = models.update_logged_model(created.model_id, 3000, status=READY)
    assert ready.status == READY and ready.updated_at == 3000
    assert ready.tags == {"t": "2"} and ready.params == {"p": "a", "q": "b"}
    acc, nan = ready.metrics
    assert (acc.key, acc.value, acc.step) == ("acc", 0.9, 2)
    assert math.isnan(nan.value) and (nan.run_id, nan.dataset_name) == ("r", "d")


def test_listing_links_and_soft_deletion(store: SqlMetadataStore) -> None:
    models = _typed(store)
    one, other = new_experiment(store), new_experiment(store)
    first = models.create_logged_model(_model(one.experiment_id, 1))
    second = models.create_logged_model(_model(one.experiment_id, 2))
    models.create_logged_model(_model(other.experiment_id, 3))
    assert [m.model_id for m in models.list_logged_models([one.experiment_id])] == [
        second.model_id, first.model_id]
    models.update_logged_model(second.model_id, 5000, deleted=True)
    assert [m.model_id for m in models.list_logged_models([one.experiment_id])] == [
        first.model_id]
    assert [m.model_id for m in models.list_logged_models([one.experiment_id],
                                                          deleted=True)] == [second.model_id]
    run = store.runs.create_run("a" * 32, one.experiment_id, "r", 1, "loc", None, None, {})
    models.link_run_model(RunModelLink(run.run_id, first.model_id, OUTPUT, 3))
    models.link_run_model(RunModelLink(run.run_id, first.model_id, OUTPUT, 4))
    assert models.list_run_model_links(run.run_id) == [
        RunModelLink(run.run_id, first.model_id, OUTPUT, 4)]
    with pytest.raises(NotFound):
        models.link_run_model(RunModelLink("b" * 32, first.model_id, OUTPUT, 0))


def test_0004_goes_down_to_0003_and_back_keeping_everything_else(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        experiment = new_experiment(store)
        store.mlflow_models.create_logged_model(_model(experiment.experiment_id))
    assert set(MLFLOW_TABLES) <= table_names(any_url)
    migrate_to(any_url, "0003", down=True)
    assert not set(MLFLOW_TABLES) & table_names(any_url)
    with open_sql_store(any_url) as store:  # upgraded again on open
        assert store.schema_revision == "0004"
        assert store.experiments.get_experiment(experiment.experiment_id) == experiment
        assert store.mlflow_models.list_logged_models([experiment.experiment_id]) == []
