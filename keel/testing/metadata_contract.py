"""The MetadataStore contract suite: what every metadata backend must do.

Subclass :class:`MetadataStoreContract` in a test module and override the ``store`` fixture to
yield a fresh, empty store (closing it afterwards)::

    from keel.testing.metadata_contract import MetadataStoreContract

    class TestMyStore(MetadataStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = open_my_store(tmp_path)
            yield store
            store.close()

It covers every method of the tracking ports (keel.tracking.store) and every rule in their
docstrings: not-found cases, uniqueness, param immutability, NaN and infinities, the latest
metric, batches that write nothing on error, dataset numbering, and the search semantics of
keel.tracking.query, the last also checked against a brute-force evaluation on random data
(hypothesis). Tests create their own experiments, so a store shared between tests still works.
"""

from __future__ import annotations

from keel.testing._contract_datasets import DatasetContract
from keel.testing._contract_experiments import ExperimentContract
from keel.testing._contract_metrics import MetricContract
from keel.testing._contract_runs import RunContract
from keel.testing._contract_search import SearchContract
from keel.testing._contract_search_property import SearchPropertyContract
from keel.testing._search_oracle import RunFacts, expected_ids, matches, sort_runs

__all__ = [
    "DatasetContract",
    "ExperimentContract",
    "MetadataStoreContract",
    "MetricContract",
    "RunContract",
    "RunFacts",
    "SearchContract",
    "SearchPropertyContract",
    "expected_ids",
    "matches",
    "sort_runs",
]


class MetadataStoreContract(
    ExperimentContract,
    RunContract,
    MetricContract,
    SearchContract,
    SearchPropertyContract,
    DatasetContract,
):
    """Every contract test for a MetadataStore; subclasses provide the ``store`` fixture."""
