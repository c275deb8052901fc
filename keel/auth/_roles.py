"""Roles as the registry's approval rules see them: an approver entry ``role:<role>`` in a
promotion policy admits anyone whose account holds that role on the model."""

from __future__ import annotations

from collections.abc import Callable

from keel.auth.models import Principal, ResourceKind
from keel.auth.service import AuthService
from keel.errors import NotFound


def model_role_lookup(auth: AuthService) -> Callable[[str, str], str | None]:
    """(actor, model name) -> the role of the actor's account on that registered model, or
    None when no enabled account has that name."""

    def role_of(actor: str, model: str) -> str | None:
        try:
            account = auth.get_account(actor)
        except NotFound:
            return None
        if account.disabled:
            return None
        principal = Principal(name=account.name, is_admin=account.is_admin, authenticated=True,
                              via="token")
        role = auth.role_for(principal, ResourceKind.REGISTERED_MODEL, model)
        return None if role is None else role.value

    return role_of
