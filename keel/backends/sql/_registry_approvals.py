"""SqlApprovalStore: the approval state machine per version and target, promotion policies and
gate evaluations.

The store enforces the transitions of keel.registry.models.APPROVAL_TRANSITIONS and separation
of duties (the requester never decides) itself, so a service that forgot a check cannot break
them; which gates a policy has, and whether they pass, is the service's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._common import upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._registry_rows import (
    find_policy,
    get_approval,
    load_approvals,
    model_row,
    require_version,
)
from keel.backends.sql._registry_schema import (
    model_approval_decisions,
    model_approvals,
    model_gate_evaluations,
    model_policies,
)
from keel.backends.sql._registry_tx import (
    RegistryTx,
    check_version,
    dumps,
    loads,
    registry_write,
)
from keel.core.naming import validate_key
from keel.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from keel.registry.models import (
    APPROVAL_TRANSITIONS,
    Approval,
    ApprovalState,
    AuditContext,
    DecisionKind,
    EntityType,
    EventType,
    GateEvaluation,
    GateResult,
    PromotionPolicy,
    approval_entity_id,
)


def _check_transition(approval: Approval, to: ApprovalState) -> None:
    if to not in APPROVAL_TRANSITIONS[approval.state]:
        raise Conflict(
            f"the {approval.target!r} approval of version {approval.version} of model "
            f"{approval.name!r} is {approval.state.value}; it cannot become {to.value}",
            details={"name": approval.name, "version": approval.version,
                     "target": approval.target, "state": approval.state.value,
                     "wanted": to.value},
        )


def _decide(tx: RegistryTx, model: Row[Any], before: Approval, decision: DecisionKind,
            state: ApprovalState, action: EventType) -> Approval:
    """Append ``decision`` by the context's actor, set ``state``, audit before/after."""
    ctx = tx.ctx
    key = {"model_id": model.id, "version": before.version, "target": before.target}
    tx.conn.execute(
        sa.insert(model_approval_decisions).values(
            **key, round=before.round, actor=ctx.actor, decision=decision.value, at=ctx.at,
            reason=ctx.reason,
        )
    )
    ap = model_approvals.c
    tx.conn.execute(
        sa.update(model_approvals)
        .where(ap.model_id == model.id, ap.version == before.version, ap.target == before.target)
        .values(state=state.value, updated_at=ctx.at)
    )
    after = get_approval(tx.conn, model, before.version, before.target)
    tx.record(action, EntityType.APPROVAL,
              approval_entity_id(model.id, before.version, before.target),
              before.to_dict(), after.to_dict(),
              {"model_id": model.id, "name": model.name, "version": before.version,
               "target": before.target, "decision": decision.value, "state": after.state.value,
               "round": after.round})
    return after


def _gate(row: Row[Any], name: str) -> GateEvaluation:
    return GateEvaluation(row.seq, name, row.version, row.target, row.gate_id, bool(row.passed),
                          loads(row.inputs), row.message, row.at, row.evaluated_by)


class SqlApprovalStore:
    """The ApprovalStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- approvals -------------------------------------------------------------------------

    def request_approval(
        self, name: str, version: int, target: str, ctx: AuditContext
    ) -> Approval:
        check_version(version)
        validate_key(target, "target")

        def request(tx: RegistryTx) -> Approval:
            model = model_row(tx.conn, name)
            before = get_approval(tx.conn, model, version, target)
            _check_transition(before, ApprovalState.PENDING)
            values = {"state": ApprovalState.PENDING.value, "round": before.round + 1,
                      "requested_by": ctx.actor, "requested_at": ctx.at,
                      "request_reason": ctx.reason, "updated_at": ctx.at}
            stmt = upsert(tx.conn, model_approvals)
            ap = model_approvals.c
            stmt = stmt.on_conflict_do_update(
                index_elements=[ap.model_id, ap.version, ap.target], set_=values
            )
            tx.conn.execute(stmt.values(model_id=model.id, version=version, target=target,
                                        **values))
            after = get_approval(tx.conn, model, version, target)
            tx.record(EventType.APPROVAL_REQUESTED, EntityType.APPROVAL,
                      approval_entity_id(model.id, version, target), before.to_dict(),
                      after.to_dict(),
                      {"model_id": model.id, "name": model.name, "version": version,
                       "target": target, "round": after.round})
            return after

        return registry_write(self._db, ctx, request)

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
        check_version(version)
        if isinstance(allowed_approvers, str):
            raise InvalidArgument("allowed_approvers must be a sequence of names, not a string")
        allowed = set(allowed_approvers or ())
        validate_key(target, "target")
        kind = DecisionKind(decision)
        if kind is DecisionKind.REVOKE:
            raise InvalidArgument("revoking is not a decision on a request: use revoke_approval")
        if (isinstance(required_approvals, bool) or not isinstance(required_approvals, int)
                or required_approvals < 1):
            raise InvalidArgument(
                f"required_approvals must be an integer >= 1, got {required_approvals!r}"
            )

        def decide(tx: RegistryTx) -> Approval:
            model = model_row(tx.conn, name)
            before = get_approval(tx.conn, model, version, target)
            if before.state is not ApprovalState.PENDING:
                _check_transition(before, ApprovalState.APPROVED
                                  if kind is DecisionKind.APPROVE else ApprovalState.REJECTED)
            if before.requested_by == ctx.actor:
                raise PermissionDenied(
                    f"{ctx.actor!r} requested this approval and so cannot decide on it "
                    "(separation of duties)",
                    details={"name": name, "version": version, "target": target,
                             "actor": ctx.actor},
                )
            if allowed and ctx.actor not in allowed:
                raise PermissionDenied(
                    f"{ctx.actor!r} is not one of the approvers for {target!r}: "
                    + ", ".join(sorted(allowed)),
                    details={"name": name, "version": version, "target": target,
                             "actor": ctx.actor, "approvers": sorted(allowed)},
                )
            if any(d.actor == ctx.actor for d in before.decisions):
                raise Conflict(
                    f"{ctx.actor!r} already decided on round {before.round} of this approval",
                    details={"name": name, "version": version, "target": target,
                             "actor": ctx.actor, "round": before.round},
                )
            if kind is DecisionKind.REJECT:
                state = ApprovalState.REJECTED
            else:
                approvers = len(before.approved_by) + 1
                reached = approvers >= required_approvals
                state = ApprovalState.APPROVED if reached else ApprovalState.PENDING
            return _decide(tx, model, before, kind, state, EventType.APPROVAL_DECIDED)

        return registry_write(self._db, ctx, decide)

    def revoke_approval(
        self, name: str, version: int, target: str, ctx: AuditContext
    ) -> Approval:
        check_version(version)
        validate_key(target, "target")

        def revoke(tx: RegistryTx) -> Approval:
            model = model_row(tx.conn, name)
            before = get_approval(tx.conn, model, version, target)
            _check_transition(before, ApprovalState.REVOKED)
            return _decide(tx, model, before, DecisionKind.REVOKE, ApprovalState.REVOKED,
                           EventType.APPROVAL_REVOKED)

        return registry_write(self._db, ctx, revoke)

    def get_approval(self, name: str, version: int, target: str) -> Approval:
        check_version(version)
        return self._db.read(
            lambda conn: get_approval(conn, model_row(conn, name), version, target)
        )

    def list_approvals(
        self, name: str, version: int | None = None, *, state: ApprovalState | None = None
    ) -> list[Approval]:
        def list_(conn: Connection) -> list[Approval]:
            model = model_row(conn, name)
            ap = model_approvals.c
            query = sa.select(model_approvals).where(ap.model_id == model.id)
            if version is not None:
                require_version(conn, model, check_version(version))
                query = query.where(ap.version == version)
            if state is not None:
                query = query.where(ap.state == ApprovalState(state).value)
            rows = conn.execute(query.order_by(ap.version, ap.target)).all()
            return load_approvals(conn, model.name, rows)

        return self._db.read(list_)

    # -- policies --------------------------------------------------------------------------

    def set_policy(
        self, name: str, policy: PromotionPolicy, ctx: AuditContext
    ) -> PromotionPolicy:
        if not isinstance(policy, PromotionPolicy):
            raise InvalidArgument("policy must be a PromotionPolicy")
        text = dumps(policy.to_dict(), "policy")

        def set_(tx: RegistryTx) -> PromotionPolicy:
            model = model_row(tx.conn, name)
            before = find_policy(tx.conn, model.id)
            values = {"policy": text, "updated_at": ctx.at, "updated_by": ctx.actor}
            stmt = upsert(tx.conn, model_policies)
            stmt = stmt.on_conflict_do_update(
                index_elements=[model_policies.c.model_id], set_=values
            )
            tx.conn.execute(stmt.values(model_id=model.id, **values))
            after = find_policy(tx.conn, model.id)
            assert after is not None
            tx.record(EventType.POLICY_SET, EntityType.POLICY, model.id,
                      None if before is None else before.to_dict(), after.to_dict(),
                      {"model_id": model.id, "name": model.name})
            return after

        return registry_write(self._db, ctx, set_)

    def find_policy(self, name: str) -> PromotionPolicy | None:
        return self._db.read(lambda conn: find_policy(conn, model_row(conn, name).id))

    def delete_policy(self, name: str, ctx: AuditContext) -> None:
        def delete(tx: RegistryTx) -> None:
            model = model_row(tx.conn, name)
            before = find_policy(tx.conn, model.id)
            if before is None:
                raise NotFound(f"model {name!r} has no promotion policy", details={"name": name})
            tx.conn.execute(
                sa.delete(model_policies).where(model_policies.c.model_id == model.id)
            )
            tx.record(EventType.POLICY_DELETED, EntityType.POLICY, model.id, before.to_dict(),
                      None, {"model_id": model.id, "name": model.name})

        registry_write(self._db, ctx, delete)

    # -- gate evaluations ------------------------------------------------------------------

    def log_gate_evaluations(
        self,
        name: str,
        version: int,
        target: str,
        results: Sequence[GateResult],
        ctx: AuditContext,
    ) -> list[GateEvaluation]:
        check_version(version)
        validate_key(target, "target")
        if not results:
            raise InvalidArgument("log_gate_evaluations needs at least one result")
        rows = []
        for result in results:
            if not isinstance(result, GateResult):
                raise InvalidArgument(f"gate results must be GateResult, got {result!r}")
            validate_key(result.gate_id, "gate_id")
            if not isinstance(result.message, str):
                raise InvalidArgument("a gate result's message must be a string")
            rows.append({"gate_id": result.gate_id, "passed": bool(result.passed),
                         "inputs": dumps(result.inputs, f"inputs of gate {result.gate_id!r}"),
                         "message": result.message})

        def log(tx: RegistryTx) -> list[GateEvaluation]:
            model = model_row(tx.conn, name)
            require_version(tx.conn, model, version)
            g = model_gate_evaluations.c
            first = tx.conn.execute(sa.select(sa.func.max(g.seq))).scalar() or 0
            for row in rows:
                tx.conn.execute(sa.insert(model_gate_evaluations).values(
                    model_id=model.id, version=version, target=target, at=ctx.at,
                    evaluated_by=ctx.actor, **row,
                ))
            query = (sa.select(model_gate_evaluations)
                     .where(g.seq > first, g.model_id == model.id, g.version == version,
                            g.target == target)
                     .order_by(g.seq))
            stored = [_gate(row, model.name) for row in tx.conn.execute(query)]
            tx.record(EventType.GATES_EVALUATED, EntityType.GATE_EVALUATION,
                      approval_entity_id(model.id, version, target), None,
                      [e.to_dict() for e in stored],
                      {"model_id": model.id, "name": model.name, "version": version,
                       "target": target, "passed": all(e.passed for e in stored),
                       "failed": [e.gate_id for e in stored if not e.passed]})
            return stored

        return registry_write(self._db, ctx, log)

    def list_gate_evaluations(
        self, name: str, version: int, target: str | None = None
    ) -> list[GateEvaluation]:
        check_version(version)

        def list_(conn: Connection) -> list[GateEvaluation]:
            model = model_row(conn, name)
            require_version(conn, model, version)
            g = model_gate_evaluations.c
            query = sa.select(model_gate_evaluations).where(
                g.model_id == model.id, g.version == version
            )
            if target is not None:
                query = query.where(g.target == target)
            return [_gate(row, model.name) for row in conn.execute(query.order_by(g.seq))]

        return self._db.read(list_)
