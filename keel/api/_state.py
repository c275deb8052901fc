"""What every request handler reaches through ``request.app.state.keel``: the server's Keel
client, its configuration, the auth service (with authentication on), and the permission
helpers endpoints use when the resource is only known after a read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request

from keel.app import Keel
from keel.auth import ResourceKind, Role
from keel.core.pagination import Page

if TYPE_CHECKING:
    from keel.auth import AuthService, Principal

T = TypeVar("T")
MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """How the server behaves (``keel server`` builds it from its options).

    ``max_body_bytes`` bounds JSON request bodies; artifact uploads are streamed to the store and
    bounded by ``max_artifact_bytes`` instead. CORS is off unless origins are listed.
    """

    auth: bool = False
    max_body_bytes: int = 64 * MiB
    max_artifact_bytes: int = 50 * 1024 * MiB
    cors_origins: tuple[str, ...] = ()
    anonymous_actor: str = "anonymous"


class ServerState:
    def __init__(self, keel: Keel, config: ServerConfig, auth: AuthService | None) -> None:
        self.keel = keel
        self.config = config
        self.auth = auth if config.auth else None
        # run id -> (experiment id, artifact location): immutable once a run exists, so the
        # authorization layer may cache it instead of reading the run on every request.
        self.run_owner = lru_cache(maxsize=65_536)(self._run_owner)

    def _run_owner(self, run_id: str) -> tuple[str, str]:
        run = self.keel.metadata.runs.get_run(run_id)
        return run.experiment_id, run.artifact_location

    def check(self, request: Request, role: Role, kind: ResourceKind, resource_id: str) -> None:
        """PermissionDenied unless the caller holds ``role`` on the resource (a no-op with
        authentication off)."""
        if self.auth is not None:
            self.auth.check(principal_of(request), kind, resource_id, role)

    def require_admin(self, request: Request) -> None:
        """PermissionDenied unless the caller is an admin (a no-op with authentication off),
        for endpoints whose rule depends on the payload."""
        if self.auth is not None:
            self.auth.require_admin(principal_of(request))

    def can(self, request: Request, role: Role, kind: ResourceKind, resource_id: str) -> bool:
        if self.auth is None:
            return True
        found = self.auth.role_for(principal_of(request), kind, resource_id)
        return found is not None and found.allows(role)

    def grant_creator(self, request: Request, kind: ResourceKind, resource_id: str) -> None:
        """The creator of an experiment or registered model becomes its manager (as in
        MLflow); admins hold every role already."""
        principal = principal_of(request)
        if self.auth is not None and principal.authenticated and not principal.is_admin:
            self.auth.grant(principal.name, kind, resource_id, Role.MANAGER,
                            actor=principal.name, reason="creator")

    def readable(self, request: Request, page: Page[T], kind: ResourceKind,
                 attr: str) -> Page[T]:
        """``page`` without the items whose resource (``item.<attr>``) the caller may not
        read; a no-op with authentication off."""
        if self.auth is None:
            return page
        kept = [item for item in page.items
                if self.can(request, Role.READER, kind, str(getattr(item, attr)))]
        return Page(kept, page.next_page_token)


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.keel
    return state


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def actor_of(request: Request) -> str:
    """Who the audit log records: the authenticated principal; with authentication off, the
    name the client claims (``X-Keel-Actor``) or the anonymous actor."""
    return principal_of(request).name
