"""The registry's audit log (read only: admins list records and events, and verify the chain on
the server) and lineage graphs, from a keel server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from keel.core.wire import from_wire
from keel.errors import InvalidArgument
from keel.registry import AuditRecord, ChainHead, ChainReport, ModelVersion, RegistryEvent
from keel.registry.lineage import Direction, LineageGraph
from keel.remote._http import API
from keel.remote.registry import ServiceCalls, query_params, transport_of
from keel.tracking.models import DatasetVersion, Run
from keel.tracking.store import MetadataStore

__all__ = ["RemoteAuditStore", "remote_lineage"]


class RemoteAuditStore(ServiceCalls):
    """The AuditStore port, read only, on a keel server (admins only)."""

    @classmethod
    def of(cls, metadata: MetadataStore) -> RemoteAuditStore:
        return cls(transport_of(metadata))

    def list_audit_records(self, after_seq: int = 0, limit: int = 1000, *,
                           entity_type: str | None = None, entity_id: str | None = None,
                           model_id: str | None = None) -> list[AuditRecord]:
        return cast(list[AuditRecord], self._get(
            list[AuditRecord], f"{API}/audit/records", after_seq=after_seq, limit=limit,
            entity_type=entity_type, entity_id=entity_id, model_id=model_id))

    def get_chain_head(self) -> ChainHead:
        return cast(ChainHead, self._get(ChainHead, f"{API}/audit/head"))

    def verify_audit_chain(self) -> ChainReport:
        return cast(ChainReport, self._get(ChainReport, f"{API}/audit/verify"))

    def list_events(self, after_seq: int = 0, types: Sequence[str] | None = None,
                    limit: int = 100) -> list[RegistryEvent]:
        params = query_params(after_seq=after_seq, limit=limit)
        if types:
            params["type"] = list(types)
        data = self._call("GET", f"{API}/audit/events", params=params)
        return from_wire(list[RegistryEvent], data, "response")


def remote_lineage(metadata: MetadataStore, obj: DatasetVersion | Run | ModelVersion | str, *,
                   direction: Direction = "both", max_depth: int = 10) -> LineageGraph:
    """The server's lineage graph around ``obj`` (see keel.registry.lineage.LineageService)."""
    if isinstance(obj, DatasetVersion):
        ref = obj.dataset_version_id
    elif isinstance(obj, Run):
        ref = obj.run_id
    elif isinstance(obj, ModelVersion):
        ref = obj.uri
    elif isinstance(obj, str):
        ref = obj.strip()
    else:
        raise InvalidArgument(f"lineage of a {type(obj).__name__} is not defined")
    data = transport_of(metadata).request("GET", f"{API}/lineage", params={
        "ref": ref, "direction": direction, "max_depth": max_depth})
    return LineageGraph.from_dict(data)
