"""The registry's use cases for models, versions and aliases.

Versions are registered from a logged model (``runs:/<run_id>/<path>``): keel reads the model's
``MODEL.yaml`` for its digest, flavor and signature, and the run for its metrics, code commit and
dataset versions, so a version's provenance is recorded, never typed in. Setting a protected
alias goes through :class:`~keel.registry.approvals.ApprovalService` so a refusal can list every
unmet gate.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from keel.core import Page, decode_page_token, new_id
from keel.core.naming import validate_name
from keel.errors import AlreadyExists, InvalidArgument
from keel.models.spec import read_spec
from keel.models.uri import RunModelURI, parse_model_uri
from keel.registry.models import (
    AliasMove,
    AuditContext,
    CardFields,
    DecisionLogEntry,
    ModelVersion,
    RegisteredModel,
)
from keel.registry.store import RegistryStore
from keel.tracking.datasets import DatasetService
from keel.tracking.run_artifacts import RunArtifactService
from keel.tracking.runs import RunService

if TYPE_CHECKING:
    from keel.registry.approvals import ApprovalService

GIT_COMMIT_TAG = "keel.git.commit"


class RegistryService:
    def __init__(
        self,
        store: RegistryStore,
        runs: RunService,
        run_artifacts: RunArtifactService,
        datasets: DatasetService,
        *,
        default_actor: str,
    ) -> None:
        self._store = store
        self._runs = runs
        self._artifacts = run_artifacts
        self._datasets = datasets
        self._default_actor = default_actor
        self._approvals: ApprovalService | None = None

    def bind_approvals(self, approvals: ApprovalService) -> None:
        """Protected aliases need the approval service; the two are built together."""
        self._approvals = approvals

    def ctx(self, actor: str | None = None, reason: str | None = None) -> AuditContext:
        return AuditContext(actor or self._default_actor, reason)

    # -- registered models ----------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> RegisteredModel:
        validate_name(name, "model name")
        return self._store.models.create_registered_model(
            new_id(), name, self.ctx(actor, reason), description=description, tags=tags
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._store.models.get_registered_model(name)

    def search_registered_models(
        self,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        return self._store.models.search_registered_models(
            name_like, tags, max_results, decode_page_token(page_token)
        )

    def rename_registered_model(
        self, name: str, new_name: str, *, actor: str | None = None, reason: str | None = None
    ) -> RegisteredModel:
        validate_name(new_name, "model name")
        return self._store.models.rename_registered_model(name, new_name, self.ctx(actor, reason))

    def describe_registered_model(
        self, name: str, description: str | None, *, actor: str | None = None
    ) -> RegisteredModel:
        return self._store.models.update_registered_model(name, description, self.ctx(actor))

    def set_registered_model_tags(
        self, name: str, tags: Mapping[str, str], *, actor: str | None = None
    ) -> RegisteredModel:
        return self._store.models.set_registered_model_tags(name, tags, self.ctx(actor))

    def delete_registered_model(
        self, name: str, *, actor: str | None = None, reason: str | None = None
    ) -> None:
        self._store.models.delete_registered_model(name, self.ctx(actor, reason))

    # -- versions -------------------------------------------------------------------------

    def register_model(
        self,
        source: str,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str | None = None,
        reason: str | None = None,
        verified_source: bool = False,
        run_id: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` (created on first use) from the model logged at
        ``source`` (``runs:/<run_id>/<path>``), with its digest, flavor, signature, the run's
        metrics, code commit and dataset versions.

        With ``verified_source``, ``source`` is a model in another format (an MLflow model) at
        a location the caller has already checked lies in keel's own artifact store (keel
        server's MLflow API does): it is recorded as given, without digest, flavor or
        signature, with the provenance of ``run_id`` when given."""
        spec = None
        if verified_source:
            run = self._runs.get_run(run_id) if run_id is not None else None
        else:
            parsed = parse_model_uri(source)
            if not isinstance(parsed, RunModelURI):
                raise InvalidArgument(
                    f"register_model takes a logged model (runs:/<run_id>/<path>), got "
                    f"{source!r}",
                    details={"source": source},
                )
            run = self._runs.get_run(parsed.run_id)
            with tempfile.TemporaryDirectory(prefix="keel-register-") as tmp:
                self._artifacts.download_artifacts(
                    run.run_id, f"{parsed.path}/MODEL.yaml", Path(tmp)
                )
                spec = read_spec(Path(tmp))
            source = str(parsed)
        inputs = self._datasets.list_run_inputs(run.run_id) if run is not None else []
        ctx = self.ctx(actor, reason)
        if self._store.models.find_registered_model(name) is None:
            validate_name(name, "model name")
            # Another process may register the model's first version at the same moment.
            with contextlib.suppress(AlreadyExists):
                self._store.models.create_registered_model(new_id(), name, ctx)
        return self._store.versions.create_model_version(
            name,
            ctx,
            source=source,
            run_id=run.run_id if run is not None else None,
            model_digest=spec.model_digest if spec is not None else None,
            flavor=spec.flavor if spec is not None else None,
            signature=spec.signature.to_dict() if spec and spec.signature is not None else None,
            dataset_version_ids=sorted({i.dataset_version_id for i in inputs}),
            code_commit=run.tags.get(GIT_COMMIT_TAG) if run is not None else None,
            metrics=run.metric_values if run is not None else None,
            description=description,
            tags=tags,
        )

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self._store.versions.get_model_version(name, version)

    def list_model_versions(
        self,
        name: str | None = None,
        *,
        run_id: str | None = None,
        dataset_version_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        return self._store.versions.list_model_versions(
            name,
            run_id=run_id,
            dataset_version_id=dataset_version_id,
            max_results=max_results,
            offset=decode_page_token(page_token),
        )

    def describe_model_version(
        self, name: str, version: int, description: str | None, *, actor: str | None = None
    ) -> ModelVersion:
        return self._store.versions.update_model_version(
            name, version, description, self.ctx(actor)
        )

    def set_model_version_tags(
        self, name: str, version: int, tags: Mapping[str, str], *, actor: str | None = None
    ) -> ModelVersion:
        return self._store.versions.set_model_version_tags(name, version, tags, self.ctx(actor))

    def delete_model_version(
        self, name: str, version: int, *, actor: str | None = None, reason: str | None = None
    ) -> None:
        self._store.versions.delete_model_version(name, version, self.ctx(actor, reason))

    # -- aliases --------------------------------------------------------------------------

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> AliasMove:
        """Point ``alias`` at ``version``. A protected alias (the model's policy names it)
        only takes a version approved for its target; otherwise NotApproved lists the unmet
        gates."""
        target = None
        policy = self._store.approvals.find_policy(name)
        if policy is not None:
            target = policy.protected_aliases.get(alias)
        if target is not None and self._approvals is not None:
            self._approvals.require_approved(name, version, target, for_alias=alias)
        return self._store.versions.set_alias(
            name,
            alias,
            version,
            self.ctx(actor, reason),
            expected_version=expected_version,
            require_approved_for=target,
        )

    def delete_alias(
        self, name: str, alias: str, *, actor: str | None = None, reason: str | None = None
    ) -> AliasMove:
        return self._store.versions.delete_alias(name, alias, self.ctx(actor, reason))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._store.versions.get_version_by_alias(name, alias)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        return self._store.versions.list_alias_history(name, alias)

    def resolve(self, name: str, *, version: int | None = None, alias: str | None = None) -> (
        ModelVersion
    ):
        """The version a ``models:/name/version`` or ``models:/name@alias`` URI names."""
        if alias is not None:
            return self.get_version_by_alias(name, alias)
        if version is None:
            raise InvalidArgument("resolve needs a version or an alias")
        return self.get_model_version(name, version)

    # -- human-written documentation ------------------------------------------------------

    def set_card_fields(
        self,
        name: str,
        fields: CardFields,
        *,
        version: int | None = None,
        actor: str | None = None,
    ) -> CardFields:
        return self._store.models.set_card_fields(name, version, fields, self.ctx(actor))

    def card_fields(self, name: str, version: int | None = None) -> CardFields:
        """The effective fields: the model's, with the version's overrides on top."""
        model_fields = self._store.models.get_card_fields(name)
        if version is None:
            return model_fields
        return model_fields.overlay(self._store.models.get_card_fields(name, version))

    def stored_card_fields(self, name: str, version: int | None = None) -> CardFields:
        """The fields exactly as stored for the model, or a version's own overrides (not
        overlaid): what an edit of one field must keep of the others."""
        return self._store.models.get_card_fields(name, version)

    def log_decision(
        self,
        name: str,
        *,
        title: str,
        context: str,
        decision: str,
        consequences: str,
        version: int | None = None,
        author: str | None = None,
        actor: str | None = None,
    ) -> DecisionLogEntry:
        return self._store.models.log_decision(
            new_id(),
            name,
            version,
            self.ctx(actor),
            title=title,
            context=context,
            decision=decision,
            consequences=consequences,
            author=author,
        )

    def list_decisions(self, name: str, version: int | None = None) -> list[DecisionLogEntry]:
        return self._store.models.list_decisions(name, version)
