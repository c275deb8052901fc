"""The registry ports: what a metadata backend must provide for the model registry.

Four ports split by noun, bundled by :class:`RegistryStore`. The rules every implementation
keeps (``keel.testing.registry_contract`` checks each one):

- **One transaction per mutation, with its audit record and event.** Every method that takes an
  :class:`~keel.registry.models.AuditContext` applies whole or not at all, and in the same
  transaction appends exactly one audit record (``actor``, ``at`` and ``reason`` from the
  context; ``action`` an :class:`~keel.registry.models.EventType` value; ``before``/``after``
  the ``to_dict()`` of the entity before and after the change, None where it did not exist) and
  one event of the same type (the outbox). A change never exists without both, and an error
  leaves neither.
- **Serialized writers, one chain.** Registry writes are serialized (SQLite: ``BEGIN
  IMMEDIATE``; PostgreSQL: a row lock on the chain head taken first in every write), so the
  audit chain never forks, seqs have no gaps, and events become visible in ``seq`` order.
- **Names.** Models are addressed by name; ``model_id`` (chosen by the caller, like every id in
  keel) is the stable identity used in audit entity ids, so history survives a rename.
- **Versions** are numbered by the store, 1, 2, ... per model, never reused (also after a
  delete); their fields are immutable except description, tags and aliases.
- **Aliases** point at one version each; every set or delete appends one history row. An
  ``expected_version`` makes a move compare-and-set.
- **Approvals** follow :data:`~keel.registry.models.APPROVAL_TRANSITIONS`; nobody decides on an
  approval they requested (PermissionDenied), even if a service forgot to check.
- Policies and gate evaluations are stored, not evaluated: that is the service's job.

Errors: RegisteredModelNotFound, ModelVersionNotFound, AliasNotFound (all NotFound),
AlreadyExists, Conflict (bad state transition, failed compare-and-set, deleting an aliased
version), NotApproved (a Conflict), PermissionDenied, InvalidArgument (bad names, keys, values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from keel.core.pagination import Page
from keel.registry.audit import ChainReport
from keel.registry.models import (
    AliasMove,
    Approval,
    ApprovalState,
    AuditContext,
    AuditRecord,
    CardFields,
    ChainHead,
    DecisionKind,
    DecisionLogEntry,
    GateEvaluation,
    GateResult,
    ModelVersion,
    PromotionPolicy,
    RegisteredModel,
    RegistryEvent,
)


class RegisteredModelStore(Protocol):
    def create_registered_model(
        self,
        model_id: str,
        name: str,
        ctx: AuditContext,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        """AlreadyExists when ``name`` or ``model_id`` is taken. Audit/event
        ``registered_model.created`` (before None, after the model)."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModel:
        """RegisteredModelNotFound when absent."""
        ...

    def find_registered_model(self, name: str) -> RegisteredModel | None: ...

    def find_registered_model_by_id(self, model_id: str) -> RegisteredModel | None:
        """For showing audit records (whose entity ids hold model ids) by current name."""
        ...

    def search_registered_models(
        self,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_results: int = 100,
        offset: int = 0,
    ) -> Page[RegisteredModel]:
        """Ordered by name (code point order). ``name_like`` is a SQL LIKE pattern
        (case-insensitive); ``tags`` must all match exactly."""
        ...

    def rename_registered_model(
        self, name: str, new_name: str, ctx: AuditContext
    ) -> RegisteredModel:
        """AlreadyExists when ``new_name`` is taken; renaming to the same name changes nothing
        but is still audited. Audit/event ``registered_model.updated``."""
        ...

    def update_registered_model(
        self, name: str, description: str | None, ctx: AuditContext
    ) -> RegisteredModel:
        """Replace the description (None clears it). Audit/event ``registered_model.updated``."""
        ...

    def set_registered_model_tags(
        self, name: str, tags: Mapping[str, str], ctx: AuditContext
    ) -> RegisteredModel:
        """Add or overwrite tags. Audit/event ``registered_model.tags_set``."""
        ...

    def delete_registered_model_tag(
        self, name: str, key: str, ctx: AuditContext
    ) -> RegisteredModel:
        """NotFound when the model has no such tag. Audit/event ``registered_model.tag_deleted``."""
        ...

    def delete_registered_model(self, name: str, ctx: AuditContext) -> None:
        """Delete the model with everything it owns: versions, aliases and their history,
        approvals, gate evaluations, policy, cards, decision log. The audit record's ``before``
        is the model's ``to_dict()`` plus ``"versions"``: the version numbers deleted. Audit
        and events survive. Audit/event ``registered_model.deleted``."""
        ...

    def set_card_fields(
        self, name: str, version: int | None, fields: CardFields, ctx: AuditContext
    ) -> CardFields:
        """Replace the model's card fields (``version`` None) or one version's overrides.
        Audit/event ``card.updated`` (before/after the CardFields' ``to_dict()``)."""
        ...

    def get_card_fields(self, name: str, version: int | None = None) -> CardFields:
        """The fields as stored for the model or the version, not overlaid (all None when never
        written); the effective card of a version is ``model.overlay(version)``."""
        ...

    def log_decision(
        self,
        entry_id: str,
        name: str,
        version: int | None,
        ctx: AuditContext,
        *,
        title: str,
        context: str,
        decision: str,
        consequences: str,
        author: str | None = None,
        date: int | None = None,
    ) -> DecisionLogEntry:
        """Append a decision-log entry to the model (``version`` None) or a version. ``author``
        and ``date`` default to ``ctx.actor`` and ``ctx.at``. AlreadyExists for a taken
        ``entry_id``. Audit/event ``decision.logged``."""
        ...

    def list_decisions(self, name: str, version: int | None = None) -> list[DecisionLogEntry]:
        """Oldest first (by date, then creation). ``version`` None: every entry of the model
        and its versions; a number: only that version's."""
        ...


class ModelVersionStore(Protocol):
    def create_model_version(
        self,
        name: str,
        ctx: AuditContext,
        *,
        source: str,
        run_id: str | None = None,
        model_digest: str | None = None,
        flavor: str | None = None,
        signature: Mapping[str, Any] | None = None,
        dataset_version_ids: Sequence[str] = (),
        code_commit: str | None = None,
        metrics: Mapping[str, float] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """The next version of ``name`` (latest_version + 1, safe under concurrent writers;
        the model's ``latest_version``, ``updated_at`` and ``updated_by`` change with it).
        ``signature`` must be JSON-able (InvalidArgument otherwise); metrics may hold NaN and
        infinities. The run and dataset ids are stored as given (the service checks them).
        RegisteredModelNotFound for an unknown model. Audit/event ``model_version.created``."""
        ...

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """RegisteredModelNotFound or ModelVersionNotFound."""
        ...

    def find_model_version(self, name: str, version: int) -> ModelVersion | None: ...

    def list_model_versions(
        self,
        name: str | None = None,
        *,
        run_id: str | None = None,
        dataset_version_id: str | None = None,
        max_results: int = 100,
        offset: int = 0,
    ) -> Page[ModelVersion]:
        """Versions matching every filter given, newest first (created_at, then version,
        descending). With ``name``, RegisteredModelNotFound for an unknown model. The run and
        dataset filters answer lineage questions ("what was built from this dataset?")."""
        ...

    def update_model_version(
        self, name: str, version: int, description: str | None, ctx: AuditContext
    ) -> ModelVersion:
        """Replace the description, the only mutable field. Audit/event
        ``model_version.updated``."""
        ...

    def set_model_version_tags(
        self, name: str, version: int, tags: Mapping[str, str], ctx: AuditContext
    ) -> ModelVersion:
        """Audit/event ``model_version.tags_set``."""
        ...

    def delete_model_version_tag(
        self, name: str, version: int, key: str, ctx: AuditContext
    ) -> ModelVersion:
        """NotFound when there is no such tag. Audit/event ``model_version.tag_deleted``."""
        ...

    def delete_model_version(self, name: str, version: int, ctx: AuditContext) -> None:
        """Conflict (details ``aliases``) while any alias points at the version: move or delete
        them first. Removes its approvals, gate evaluations, card and decision entries too;
        the number is never reused. Audit/event ``model_version.deleted``."""
        ...

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        ctx: AuditContext,
        *,
        expected_version: int | None = None,
        require_approved_for: str | None = None,
    ) -> AliasMove:
        """Point ``alias`` at ``version``, atomically, and append the history row returned.

        - ``expected_version``: compare-and-set. The alias must currently point at that version
          (``ALIAS_UNSET``, 0: must not exist yet), else Conflict with details
          ``expected_version`` and ``actual_version`` (None when unset).
        - ``require_approved_for``: the version's approval for that target must be APPROVED,
          else NotApproved (details ``name, version, target, state``). The store also applies
          this check by itself when the model's stored policy lists ``alias`` in
          ``protected_aliases`` (using the target named there), in the same transaction as the
          move, so a check and a move can never race.

        Setting an alias to the version it already points at is still a move (from_version
        == to_version) with its history row. ModelVersionNotFound for an unknown version;
        InvalidArgument for a malformed alias or one that is a plain integer. Audit/event
        ``alias.set`` (before/after ``{"alias", "version"}``, before None when new)."""
        ...

    def delete_alias(
        self,
        name: str,
        alias: str,
        ctx: AuditContext,
        *,
        expected_version: int | None = None,
    ) -> AliasMove:
        """Remove the alias (history row with ``to_version`` None). AliasNotFound when unset;
        Conflict when ``expected_version`` is given and differs. Audit/event ``alias.deleted``."""
        ...

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """RegisteredModelNotFound or AliasNotFound."""
        ...

    def list_alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of every alias of the model (or of one alias), oldest first (by seq)."""
        ...


class ApprovalStore(Protocol):
    def request_approval(
        self, name: str, version: int, target: str, ctx: AuditContext
    ) -> Approval:
        """Move the version's approval for ``target`` to PENDING, requested by ``ctx.actor``,
        starting a new round (round 1 first; after REJECTED or REVOKED, the next). Conflict
        when it is PENDING or APPROVED already (details ``state``). ModelVersionNotFound.
        Audit/event ``approval.requested``."""
        ...

    def decide_approval(
        self,
        name: str,
        version: int,
        target: str,
        decision: DecisionKind,
        ctx: AuditContext,
        *,
        required_approvals: int = 1,
        allowed_approvers: Sequence[str] | None = None,
    ) -> Approval:
        """Record ``ctx.actor``'s APPROVE or REJECT on a PENDING approval.

        A REJECT makes it REJECTED. An APPROVE makes it APPROVED once the round has
        ``required_approvals`` (>= 1, from the service's policy) distinct approvers, and leaves
        it PENDING before that. PermissionDenied when ``ctx.actor`` requested it (separation of
        duties), or when ``allowed_approvers`` is non-empty and does not name the actor (the
        policy's ``approvers``, checked in the same transaction); Conflict when it is not
        PENDING or the actor already decided in this round; InvalidArgument for REVOKE (see
        revoke_approval) or ``required_approvals`` < 1. Audit/event ``approval.decided``
        (before/after the Approval's ``to_dict()``)."""
        ...

    def revoke_approval(
        self, name: str, version: int, target: str, ctx: AuditContext
    ) -> Approval:
        """APPROVED -> REVOKED, with a REVOKE decision by ``ctx.actor``; Conflict from any other
        state. Aliases pointing at the version are left alone (moving them is the service's
        call). Audit/event ``approval.revoked``."""
        ...

    def get_approval(self, name: str, version: int, target: str) -> Approval:
        """The approval (state NONE, round 0 when never requested); ModelVersionNotFound."""
        ...

    def list_approvals(
        self, name: str, version: int | None = None, *, state: ApprovalState | None = None
    ) -> list[Approval]:
        """Requested approvals (never NONE ones) of the model or one version, optionally in
        one state, ordered by version then target."""
        ...

    def set_policy(self, name: str, policy: PromotionPolicy, ctx: AuditContext) -> PromotionPolicy:
        """Create or replace the model's promotion policy. Audit/event ``policy.set``
        (before/after ``PromotionPolicy.to_dict()``, before None when new)."""
        ...

    def find_policy(self, name: str) -> PromotionPolicy | None:
        """RegisteredModelNotFound for an unknown model; None when it has no policy."""
        ...

    def delete_policy(self, name: str, ctx: AuditContext) -> None:
        """NotFound when the model has no policy. Audit/event ``policy.deleted``."""
        ...

    def log_gate_evaluations(
        self,
        name: str,
        version: int,
        target: str,
        results: Sequence[GateResult],
        ctx: AuditContext,
    ) -> list[GateEvaluation]:
        """Append the outcomes of one evaluation (``at`` and ``evaluated_by`` from ``ctx``),
        as one audit record/event ``gates.evaluated`` whose ``after`` lists them.
        InvalidArgument when ``results`` is empty or an ``inputs`` is not JSON-able."""
        ...

    def list_gate_evaluations(
        self, name: str, version: int, target: str | None = None
    ) -> list[GateEvaluation]:
        """Oldest first (by seq)."""
        ...


class AuditStore(Protocol):
    def list_audit_records(
        self,
        after_seq: int = 0,
        limit: int = 1000,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        model_id: str | None = None,
    ) -> list[AuditRecord]:
        """Records with seq > ``after_seq``, ascending, at most ``limit``; ``model_id`` selects
        every record about the model (its versions, aliases, approvals, ... included)."""
        ...

    def get_chain_head(self) -> ChainHead:
        """The last record's seq and hash (0 and the genesis hash when the log is empty)."""
        ...

    def verify_audit_chain(self) -> ChainReport:
        """Verify every record and the head (keel.registry.audit), streaming in batches."""
        ...

    def list_events(
        self, after_seq: int = 0, types: Sequence[str] | None = None, limit: int = 100
    ) -> list[RegistryEvent]:
        """Events with seq > ``after_seq`` (a consumer's cursor), ascending, at most ``limit``,
        optionally only of some types. Nothing ever appears below a seq already returned."""
        ...


class RegistryStore(Protocol):
    """The registry half of one opened metadata database."""

    @property
    def models(self) -> RegisteredModelStore: ...

    @property
    def versions(self) -> ModelVersionStore: ...

    @property
    def approvals(self) -> ApprovalStore: ...

    @property
    def audit(self) -> AuditStore: ...
