"""SqlRegistryStore: the registry ports of one SQL metadata database."""

from __future__ import annotations

from keel.backends.sql._engine import Database
from keel.backends.sql._registry_approvals import SqlApprovalStore
from keel.backends.sql._registry_audit import SqlAuditStore
from keel.backends.sql._registry_models import SqlRegisteredModelStore
from keel.backends.sql._registry_versions import SqlModelVersionStore


class SqlRegistryStore:
    """The RegistryStore port: registered models, versions (with aliases), approvals (with
    policies and gate evaluations) and the audit log, sharing one Database."""

    def __init__(self, db: Database) -> None:
        self._models = SqlRegisteredModelStore(db)
        self._versions = SqlModelVersionStore(db)
        self._approvals = SqlApprovalStore(db)
        self._audit = SqlAuditStore(db)

    @property
    def models(self) -> SqlRegisteredModelStore:
        return self._models

    @property
    def versions(self) -> SqlModelVersionStore:
        return self._versions

    @property
    def approvals(self) -> SqlApprovalStore:
        return self._approvals

    @property
    def audit(self) -> SqlAuditStore:
        return self._audit
