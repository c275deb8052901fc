"""The RegistryStore contract suite: what every metadata backend's registry must do.

Subclass :class:`RegistryStoreContract` in a test module and override the ``registry`` fixture
to yield a RegistryStore on a fresh store (closing it afterwards)::

    from keel.testing.registry_contract import RegistryStoreContract

    class TestMyRegistry(RegistryStoreContract):
        @pytest.fixture
        def registry(self, tmp_path):
            store = open_my_store(tmp_path)
            yield store.registry
            store.close()

It covers every method of the registry ports (keel.registry.store) and every rule in their
docstrings: not-found cases and uniqueness, version numbering and immutability, alias moves
(compare-and-set, history, approval guards, policy-protected aliases), the approval state
machine and separation of duties, policies and gate evaluations, card fields and the decision
log, and the outbox rule: exactly one audit record (with before/after) and one event per
mutation, none for a failed one, and a hash chain that verifies. Tests name their models
uniquely, so a store shared between tests still works. Tampering with stored records needs
backend access, so backends test that themselves (see tests/registry for the SQL backend).
"""

from __future__ import annotations

from keel.testing._registry_contract_approvals import (
    ApprovalContract,
    PolicyContract,
    ProtectedAliasContract,
)
from keel.testing._registry_contract_audit import AuditContract
from keel.testing._registry_contract_base import RegistryContractBase
from keel.testing._registry_contract_models import RegisteredModelContract
from keel.testing._registry_contract_versions import AliasContract, ModelVersionContract

__all__ = [
    "AliasContract",
    "ApprovalContract",
    "AuditContract",
    "ModelVersionContract",
    "PolicyContract",
    "ProtectedAliasContract",
    "RegisteredModelContract",
    "RegistryContractBase",
    "RegistryStoreContract",
]


class RegistryStoreContract(
    RegisteredModelContract,
    ModelVersionContract,
    AliasContract,
    ApprovalContract,
    PolicyContract,
    ProtectedAliasContract,
    AuditContract,
):
    """Every contract test for a RegistryStore; subclasses provide the ``registry`` fixture."""
