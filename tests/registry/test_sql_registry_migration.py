"""Migration 0002 (the registry) on top of an existing 0001 database, and back."""

from __future__ import annotations

from keel.backends.sql import SCHEMA_REVISION, open_sql_store
from keel.backends.sql._registry_schema import REGISTRY_TABLES
from keel.registry.audit import GENESIS_HASH
from keel.registry.models import ChainHead
from keel.testing._contract_base import new_experiment
from keel.testing._registry_contract_base import ctx, new_model
from keel.testing.migrations import migrate_to, table_names


def test_a_0001_database_is_upgraded_with_its_data_kept(any_url: str) -> None:
    migrate_to(any_url, "0001")
    assert not set(REGISTRY_TABLES) & table_names(any_url)
    with open_sql_store(any_url) as store:  # opening upgrades it
        assert store.schema_revision == SCHEMA_REVISION
        experiment = new_experiment(store)
    with open_sql_store(any_url) as store:
        assert store.experiments.get_experiment(experiment.experiment_id) == experiment
        assert store.registry.audit.get_chain_head() == ChainHead(0, GENESIS_HASH)
        new_model(store.registry)
        assert store.registry.audit.verify_audit_chain().ok


def test_downgrading_0002_drops_only_the_registry(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        experiment = new_experiment(store)
        store.registry.models.create_registered_model("m", "churn", ctx())
    migrate_to(any_url, "0001", down=True)
    assert not set(REGISTRY_TABLES) & table_names(any_url)
    migrate_to(any_url, "0002")
    with open_sql_store(any_url) as store:
        assert store.experiments.get_experiment(experiment.experiment_id) == experiment
        assert store.registry.models.find_registered_model("churn") is None
        assert store.registry.audit.get_chain_head() == ChainHead(0, GENESIS_HASH)
