"""``/api/v1/registered-models/{name}/...``: promotion policies, gates and the approval workflow,
through keel's ApprovalService, which the server runs so that it enforces the rules itself.

The decider is always the authenticated caller (:func:`keel.api._state.actor_of`): separation
of duties (nobody decides on an approval they requested) and the policy's approver lists are
checked against it, never against a name in the body. Permissions: reader on the model to read
and to approve, reject or revoke (the policy's approvers then decide who may); editor to
request an approval or to store a gate evaluation; manager to change the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import KeelRoute, permission
from keel.api._json import body_of, body_spec, respond, returns
from keel.api._state import actor_of, state_of
from keel.api.v1._registry import MODEL, MODELS, VERSION, model_name, on_model, version_number
from keel.auth import Role
from keel.core.naming import validate_key
from keel.registry import (
    Approval,
    ApprovalState,
    GateEvaluation,
    GateResult,
    PromotionPolicy,
    TargetRules,
)

router = APIRouter(prefix="/api/v1", tags=["approvals"], route_class=KeelRoute)

APPROVAL = VERSION + "/approvals/{target}"
_read, _edit, _manage = on_model(Role.READER), on_model(Role.EDITOR), on_model(Role.MANAGER)


def _target(target: str) -> str:
    return validate_key(target, "target")


@dataclass(frozen=True)
class SetPolicy:
    policy: PromotionPolicy
    reason: str | None = None


@dataclass(frozen=True)
class EvaluateGates:
    store: bool = True


@dataclass(frozen=True)
class Reason:
    reason: str | None = None


@router.put(MODELS + "/policy", openapi_extra=body_spec(SetPolicy),
            responses=returns(PromotionPolicy))
@permission(_manage)
def set_policy(request: Request, name: str,
               body: SetPolicy = Depends(body_of(SetPolicy))) -> Response:
    """Create or replace the model's promotion policy."""
    return respond(state_of(request).keel.approvals.set_policy(
        model_name(name), body.policy, actor=actor_of(request), reason=body.reason))


@router.get(MODELS + "/policy", responses=returns(PromotionPolicy | None))
@permission(_read)
def get_policy(request: Request, name: str) -> Response:
    """The policy, or null when the model has none."""
    return respond(state_of(request).keel.approvals.get_policy(model_name(name)))


@router.get(MODELS + "/rules/{target}", responses=returns(TargetRules))
@permission(_read)
def rules(request: Request, name: str, target: str) -> Response:
    """The target's rules (a target the policy does not name needs one human approval)."""
    return respond(state_of(request).keel.approvals.rules(model_name(name), _target(target)))


@router.get(MODELS + "/approvals", responses=returns(list[Approval]))
@permission(_read)
def list_approvals(request: Request, name: str, version: int | None = None,
                   state: ApprovalState | None = None) -> Response:
    """Requested approvals of the model (or one version), optionally in one state."""
    return respond(state_of(request).keel.approvals.list_approvals(
        model_name(name), None if version is None else version_number(version), state=state))


@router.post(VERSION + "/gates/{target}/evaluate", openapi_extra=body_spec(EvaluateGates,
                                                                          required=False),
             responses=returns(list[GateResult]))
@permission(_read)
def evaluate_gates(request: Request, name: str, version: int, target: str,
                   body: EvaluateGates = Depends(body_of(EvaluateGates))) -> Response:
    """Every automatic gate of the target for this version; storing the outcomes (the
    default) needs editor."""
    state = state_of(request)
    name = model_name(name)
    if body.store:
        state.check(request, Role.EDITOR, MODEL, name)
    return respond(state.keel.approvals.evaluate_gates(
        name, version_number(version), _target(target), actor=actor_of(request),
        store=body.store))


@router.get(VERSION + "/gate-evaluations", responses=returns(list[GateEvaluation]))
@permission(_read)
def gate_history(request: Request, name: str, version: int,
                 target: str | None = None) -> Response:
    """Stored gate outcomes, oldest first."""
    return respond(state_of(request).keel.approvals.gate_history(
        model_name(name), version_number(version), None if target is None else _target(target)))


@router.get(APPROVAL, responses=returns(Approval))
@permission(_read)
def get_approval(request: Request, name: str, version: int, target: str) -> Response:
    return respond(state_of(request).keel.approvals.get_approval(
        model_name(name), version_number(version), _target(target)))


@router.get(APPROVAL + "/unmet", responses=returns(list[str]))
@permission(_read)
def unmet_gates(request: Request, name: str, version: int, target: str) -> Response:
    """What stands between the version and approval for the target, in words."""
    return respond(state_of(request).keel.approvals.unmet_gates(
        model_name(name), version_number(version), _target(target)))


@router.get(APPROVAL + "/check", status_code=204)
@permission(_read)
def require_approved(request: Request, name: str, version: int, target: str,
                     for_alias: str) -> Response:
    """204 when the version is approved for the target; otherwise NotApproved (409) listing
    every unmet gate, as setting the protected alias ``for_alias`` would."""
    state_of(request).keel.approvals.require_approved(
        model_name(name), version_number(version), _target(target),
        for_alias=validate_key(for_alias, "alias"))
    return Response(status_code=204)


@router.post(APPROVAL + "/request", openapi_extra=body_spec(Reason, required=False),
             responses=returns(Approval))
@permission(_edit)
def request_approval(request: Request, name: str, version: int, target: str,
                     body: Reason = Depends(body_of(Reason))) -> Response:
    """Evaluate the gates and put the version up for approval (NotApproved lists the failed
    gates); with no human approval required, the policy approves at once."""
    return respond(state_of(request).keel.approvals.request_approval(
        model_name(name), version_number(version), _target(target), actor=actor_of(request),
        reason=body.reason))


@router.post(APPROVAL + "/approve", openapi_extra=body_spec(Reason, required=False),
             responses=returns(Approval))
@permission(_read)
def approve(request: Request, name: str, version: int, target: str,
            body: Reason = Depends(body_of(Reason))) -> Response:
    """The caller's approval: never the requester's, only an allowed approver's, and only
    while the gates still pass."""
    return respond(state_of(request).keel.approvals.approve(
        model_name(name), version_number(version), _target(target), actor=actor_of(request),
        reason=body.reason))


@router.post(APPROVAL + "/reject", openapi_extra=body_spec(Reason, required=False),
             responses=returns(Approval))
@permission(_read)
def reject(request: Request, name: str, version: int, target: str,
           body: Reason = Depends(body_of(Reason))) -> Response:
    return respond(state_of(request).keel.approvals.reject(
        model_name(name), version_number(version), _target(target), actor=actor_of(request),
        reason=body.reason))


@router.post(APPROVAL + "/revoke", openapi_extra=body_spec(Reason, required=False),
             responses=returns(Approval))
@permission(_read)
def revoke(request: Request, name: str, version: int, target: str,
           body: Reason = Depends(body_of(Reason))) -> Response:
    """APPROVED -> REVOKED, by an allowed approver; aliases on the version stay where they
    are."""
    return respond(state_of(request).keel.approvals.revoke(
        model_name(name), version_number(version), _target(target), actor=actor_of(request),
        reason=body.reason))
