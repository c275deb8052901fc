"""The registry's services over HTTP: keel's RegistryService and ApprovalService as calls to a keel
server, which runs the real services so that it enforces governance itself (gates, separation
of duties, protected aliases, approver lists, permissions).

Every public method of both services is overridden with one request (a test walks them), so
the Python API is the same on both transports. The actor of a change is who the server says
the caller is: with authentication on, the authenticated account (an ``actor=`` argument is
then ignored); with it off, the ``X-Keel-Actor`` header, which carries ``actor=`` when given,
else the client's user. It never travels in a body.

The audit log (read only) and lineage graphs are in :mod:`keel.remote.audit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import orjson

from keel.core.naming import validate_name
from keel.core.pagination import Page
from keel.core.wire import from_wire, to_wire
from keel.errors import InvalidArgument
from keel.registry import (
    AliasMove,
    Approval,
    ApprovalState,
    AuditContext,
    CardFields,
    DecisionLogEntry,
    GateEvaluation,
    GateResult,
    ModelVersion,
    PromotionPolicy,
    RegisteredModel,
    RegistryStore,
    TargetRules,
)
from keel.registry.approvals import ApprovalService
from keel.registry.registry import RegistryService
from keel.remote._http import API, HttpTransport
from keel.tracking.datasets import DatasetService
from keel.tracking.run_artifacts import RunArtifactService
from keel.tracking.runs import RunService
from keel.tracking.store import MetadataStore

if TYPE_CHECKING:
    from keel.app import Keel

__all__ = ["RemoteApprovalService", "RemoteRegistryService", "remote_services", "transport_of"]


def remote_services(client: Keel) -> tuple[RemoteRegistryService, RemoteApprovalService]:
    """The registry and approval services of a client of a keel server."""
    http = transport_of(client.metadata)
    registry = RemoteRegistryService(http, client.runs, client.artifacts, client.datasets,
                                     default_actor=client.user or "unknown")
    return registry, RemoteApprovalService(http, registry)


def transport_of(metadata: MetadataStore) -> HttpTransport:
    """The HTTP transport of a client's metadata store (InvalidArgument when it has none)."""
    from keel.remote.metadata import HttpMetadataStore

    if not isinstance(metadata, HttpMetadataStore):
        raise InvalidArgument(f"{metadata.url!r} is not a keel server")
    return metadata.http


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _model(name: str) -> str:
    """``/registered-models/<name>``: a name may hold slashes (the server matches them); dot
    segments are escaped so that no URL normalization turns ``a/../b`` into ``b``."""
    validate_name(name, "model name")
    segments = [_seg(part) if part not in (".", "..") else part.replace(".", "%2E")
                for part in name.split("/")]
    return f"{API}/registered-models/{'/'.join(segments)}"


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{int(version)}"


def _actor_header(actor: str | None) -> dict[str, str]:
    if actor is None:
        return {}
    validate_name(actor, "actor")
    if not actor.isascii():
        raise InvalidArgument(f"actor {actor!r} cannot travel in the X-Keel-Actor header: over "
                              "HTTP an actor name is ASCII", details={"field": "actor"})
    return {"X-Keel-Actor": actor}


def query_params(**values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class ServiceCalls:
    """Requests to a keel server's JSON routes, with the caller's actor in a header."""

    def __init__(self, http: HttpTransport) -> None:
        self._http = http

    def _call(self, method: str, path: str, *, body: Any = None,
              params: Mapping[str, Any] | None = None, actor: str | None = None) -> Any:
        headers = _actor_header(actor)
        content = None
        if body is not None:
            content = orjson.dumps(to_wire(body))
            headers["Content-Type"] = "application/json"
        response = self._http.send(method, path, content=content, params=params,
                                   headers=headers)
        return orjson.loads(response.content) if response.content else None

    def _get(self, cls: Any, path: str, **params: Any) -> Any:
        return from_wire(cls, self._call("GET", path, params=query_params(**params)), "response")

    def _page(self, cls: Any, path: str, **params: Any) -> Page[Any]:
        data = self._call("GET", path, params=query_params(**params))
        items = [from_wire(cls, item, "item") for item in data["items"]]
        return Page(items, data.get("next_page_token"))


class RemoteRegistryService(ServiceCalls, RegistryService):
    """RegistryService on a keel server."""

    def __init__(self, http: HttpTransport, runs: RunService, run_artifacts: RunArtifactService,
                 datasets: DatasetService, *, default_actor: str) -> None:
        ServiceCalls.__init__(self, http)
        RegistryService.__init__(self, cast(RegistryStore, _NO_STORE), runs, run_artifacts,
                                 datasets, default_actor=default_actor)

    def bind_approvals(self, approvals: ApprovalService) -> None:
        """Nothing to bind: the server checks protected aliases with its own services."""

    def ctx(self, actor: str | None = None, reason: str | None = None) -> AuditContext:
        return AuditContext(actor or self._default_actor, reason)

    # -- registered models ----------------------------------------------------------------

    def create_registered_model(self, name: str, *, description: str | None = None,
                                tags: Mapping[str, str] | None = None, actor: str | None = None,
                                reason: str | None = None) -> RegisteredModel:
        return from_wire(RegisteredModel, self._call(
            "POST", f"{API}/registered-models", actor=actor, body={
                "name": name, "description": description, "tags": dict(tags or {}),
                "reason": reason}))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return cast(RegisteredModel, self._get(RegisteredModel, _model(name)))

    def search_registered_models(self, name_like: str | None = None,
                                 tags: Mapping[str, str] | None = None, *,
                                 max_results: int = 100,
                                 page_token: str | None = None) -> Page[RegisteredModel]:
        tag_params = {f"tag.{k}": v for k, v in (tags or {}).items()}
        return self._page(RegisteredModel, f"{API}/registered-models", name_like=name_like,
                          max_results=max_results, page_token=page_token, **tag_params)

    def rename_registered_model(self, name: str, new_name: str, *, actor: str | None = None,
                                reason: str | None = None) -> RegisteredModel:
        return from_wire(RegisteredModel, self._call(
            "POST", f"{_model(name)}/rename", actor=actor,
            body={"new_name": new_name, "reason": reason}))

    def describe_registered_model(self, name: str, description: str | None, *,
                                  actor: str | None = None) -> RegisteredModel:
        return from_wire(RegisteredModel, self._call(
            "PATCH", _model(name), actor=actor, body={"description": description}))

    def set_registered_model_tags(self, name: str, tags: Mapping[str, str], *,
                                  actor: str | None = None) -> RegisteredModel:
        return from_wire(RegisteredModel, self._call(
            "PUT", f"{_model(name)}/tags", actor=actor, body={"tags": dict(tags)}))

    def delete_registered_model_tag(self, name: str, key: str, *,
                                    actor: str | None = None) -> RegisteredModel:
        """(Remote only: the embedded service has no tag deletion yet.)"""
        return from_wire(RegisteredModel, self._call(
            "DELETE", f"{_model(name)}/tags", actor=actor, params={"key": key}))

    def delete_registered_model(self, name: str, *, actor: str | None = None,
                                reason: str | None = None) -> None:
        self._call("DELETE", _model(name), actor=actor, params=query_params(reason=reason))

    # -- versions -------------------------------------------------------------------------

    def register_model(self, source: str, name: str, *, description: str | None = None,
                       tags: Mapping[str, str] | None = None, actor: str | None = None,
                       reason: str | None = None, verified_source: bool = False,
                       run_id: str | None = None) -> ModelVersion:
        """A new version of ``name`` from the model logged at ``source``; the server reads the
        model's MODEL.yaml and the run for its provenance (``verified_source`` is the server's
        own, for MLflow models: a client cannot vouch for a source)."""
        if verified_source or run_id is not None:
            raise InvalidArgument("verified_source and run_id are for keel server's own use")
        return from_wire(ModelVersion, self._call(
            "POST", f"{_model(name)}/versions", actor=actor, body={
                "source": source, "description": description, "tags": dict(tags or {}),
                "reason": reason}))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return cast(ModelVersion, self._get(ModelVersion, _version(name, version)))

    def list_model_versions(self, name: str | None = None, *, run_id: str | None = None,
                            dataset_version_id: str | None = None, max_results: int = 100,
                            page_token: str | None = None) -> Page[ModelVersion]:
        path = f"{API}/model-versions" if name is None else f"{_model(name)}/versions"
        return self._page(ModelVersion, path, run_id=run_id,
                          dataset_version_id=dataset_version_id, max_results=max_results,
                          page_token=page_token)

    def describe_model_version(self, name: str, version: int, description: str | None, *,
                               actor: str | None = None) -> ModelVersion:
        return from_wire(ModelVersion, self._call(
            "PATCH", _version(name, version), actor=actor, body={"description": description}))

    def set_model_version_tags(self, name: str, version: int, tags: Mapping[str, str], *,
                               actor: str | None = None) -> ModelVersion:
        return from_wire(ModelVersion, self._call(
            "PUT", f"{_version(name, version)}/tags", actor=actor, body={"tags": dict(tags)}))

    def delete_model_version_tag(self, name: str, version: int, key: str, *,
                                 actor: str | None = None) -> ModelVersion:
        """(Remote only: the embedded service has no tag deletion yet.)"""
        return from_wire(ModelVersion, self._call(
            "DELETE", f"{_version(name, version)}/tags", actor=actor, params={"key": key}))

    def delete_model_version(self, name: str, version: int, *, actor: str | None = None,
                             reason: str | None = None) -> None:
        self._call("DELETE", _version(name, version), actor=actor,
                   params=query_params(reason=reason))

    # -- aliases --------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int, *,
                  expected_version: int | None = None, actor: str | None = None,
                  reason: str | None = None) -> AliasMove:
        return from_wire(AliasMove, self._call(
            "PUT", f"{_model(name)}/aliases/{_seg(alias)}", actor=actor, body={
                "version": version, "expected_version": expected_version, "reason": reason}))

    def delete_alias(self, name: str, alias: str, *, actor: str | None = None,
                     reason: str | None = None) -> AliasMove:
        return from_wire(AliasMove, self._call(
            "DELETE", f"{_model(name)}/aliases/{_seg(alias)}", actor=actor,
            params=query_params(reason=reason)))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return cast(ModelVersion, self._get(ModelVersion,
                                            f"{_model(name)}/aliases/{_seg(alias)}"))

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        return cast(list[AliasMove], self._get(list[AliasMove], f"{_model(name)}/alias-history",
                                               alias=alias))

    def resolve(self, name: str, *, version: int | None = None,
                alias: str | None = None) -> ModelVersion:
        if version is None and alias is None:
            raise InvalidArgument("resolve needs a version or an alias")
        return cast(ModelVersion, self._get(ModelVersion, f"{_model(name)}/resolve",
                                            version=version, alias=alias))

    # -- human-written documentation ------------------------------------------------------

    def set_card_fields(self, name: str, fields: CardFields, *, version: int | None = None,
                        actor: str | None = None) -> CardFields:
        return from_wire(CardFields, self._call(
            "PUT", f"{_model(name)}/card-fields", actor=actor,
            body={"fields": fields, "version": version}))

    def card_fields(self, name: str, version: int | None = None) -> CardFields:
        return cast(CardFields, self._get(CardFields, f"{_model(name)}/card-fields",
                                          version=version))

    def stored_card_fields(self, name: str, version: int | None = None) -> CardFields:
        return cast(CardFields, self._get(CardFields, f"{_model(name)}/card-fields/stored",
                                          version=version))

    def log_decision(self, name: str, *, title: str, context: str, decision: str,
                     consequences: str, version: int | None = None, author: str | None = None,
                     actor: str | None = None) -> DecisionLogEntry:
        return from_wire(DecisionLogEntry, self._call(
            "POST", f"{_model(name)}/decisions", actor=actor, body={
                "title": title, "context": context, "decision": decision,
                "consequences": consequences, "version": version, "author": author}))

    def list_decisions(self, name: str, version: int | None = None) -> list[DecisionLogEntry]:
        return cast(list[DecisionLogEntry], self._get(
            list[DecisionLogEntry], f"{_model(name)}/decisions", version=version))


class RemoteApprovalService(ServiceCalls, ApprovalService):
    """ApprovalService on a keel server: gates are evaluated and approvals decided there."""

    def __init__(self, http: HttpTransport, registry: RemoteRegistryService) -> None:
        ServiceCalls.__init__(self, http)
        ApprovalService.__init__(self, cast(RegistryStore, _NO_STORE), registry)

    def set_policy(self, name: str, policy: PromotionPolicy, *, actor: str | None = None,
                   reason: str | None = None) -> PromotionPolicy:
        return from_wire(PromotionPolicy, self._call(
            "PUT", f"{_model(name)}/policy", actor=actor,
            body={"policy": policy, "reason": reason}))

    def get_policy(self, name: str) -> PromotionPolicy | None:
        return cast(PromotionPolicy | None, self._get(PromotionPolicy | None,
                                                      f"{_model(name)}/policy"))

    def rules(self, name: str, target: str) -> TargetRules:
        return cast(TargetRules, self._get(TargetRules, f"{_model(name)}/rules/{_seg(target)}"))

    def evaluate_gates(self, name: str, version: int, target: str, *, actor: str | None = None,
                       store: bool = True) -> list[GateResult]:
        return from_wire(list[GateResult], self._call(
            "POST", f"{_version(name, version)}/gates/{_seg(target)}/evaluate", actor=actor,
            body={"store": store}))

    def gate_history(self, name: str, version: int,
                     target: str | None = None) -> list[GateEvaluation]:
        return cast(list[GateEvaluation], self._get(
            list[GateEvaluation], f"{_version(name, version)}/gate-evaluations", target=target))

    def unmet_gates(self, name: str, version: int, target: str) -> list[str]:
        return cast(list[str], self._get(list[str], f"{_approval(name, version, target)}/unmet"))

    def request_approval(self, name: str, version: int, target: str, *,
                         actor: str | None = None, reason: str | None = None) -> Approval:
        return self._act("request", name, version, target, actor, reason)

    def approve(self, name: str, version: int, target: str, *, actor: str | None = None,
                reason: str | None = None) -> Approval:
        return self._act("approve", name, version, target, actor, reason)

    def reject(self, name: str, version: int, target: str, *, actor: str | None = None,
               reason: str | None = None) -> Approval:
        return self._act("reject", name, version, target, actor, reason)

    def revoke(self, name: str, version: int, target: str, *, actor: str | None = None,
               reason: str | None = None) -> Approval:
        return self._act("revoke", name, version, target, actor, reason)

    def get_approval(self, name: str, version: int, target: str) -> Approval:
        return cast(Approval, self._get(Approval, _approval(name, version, target)))

    def list_approvals(self, name: str, version: int | None = None, *,
                       state: ApprovalState | None = None) -> list[Approval]:
        return cast(list[Approval], self._get(
            list[Approval], f"{_model(name)}/approvals", version=version,
            state=None if state is None else ApprovalState(state).value))

    def require_approved(self, name: str, version: int, target: str, *, for_alias: str) -> None:
        self._call("GET", f"{_approval(name, version, target)}/check",
                   params={"for_alias": for_alias})

    def _act(self, action: str, name: str, version: int, target: str, actor: str | None,
             reason: str | None) -> Approval:
        return from_wire(Approval, self._call(
            "POST", f"{_approval(name, version, target)}/{action}", actor=actor,
            body={"reason": reason}))


def _approval(name: str, version: int, target: str) -> str:
    return f"{_version(name, version)}/approvals/{_seg(target)}"


class _NoStore:
    """What the remote services hold instead of a store: the server owns it."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"keel's HTTP client has no registry store ({name}): every service "
                           "method must call the server (keel.remote.registry)")


_NO_STORE = _NoStore()
