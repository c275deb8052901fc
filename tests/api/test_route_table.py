"""Every route of the server goes through the one authorization layer: the test walks the
route table and fails on any route that is not a KeelRoute with a declared permission, and
checks that declaring nothing is refused when the route is built."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Request
from starlette.routing import Route

from keel.api import create_app
from keel.api._authz import KeelRoute, Permission
from keel.api.app import PUBLIC_ROUTES
from keel.app import Keel
from keel.config import load_settings


@pytest.fixture
def app_routes(tmp_path: Path) -> list[object]:
    with Keel(load_settings({}, home=str(tmp_path), capture_packages=False)) as keel:
        return list(create_app(keel).routes)


def test_every_route_declares_a_permission(app_routes: list[object]) -> None:
    undeclared = []
    for route in app_routes:
        if isinstance(route, KeelRoute):
            assert isinstance(route.permission, Permission)
            continue
        path = getattr(route, "path", repr(route))
        if not (isinstance(route, Route) and path in PUBLIC_ROUTES):
            undeclared.append(path)
    assert undeclared == []


def test_the_public_routes_are_exactly_the_operator_ones(app_routes: list[object]) -> None:
    public = sorted(
        route.path for route in app_routes
        if isinstance(route, KeelRoute) and route.permission.public
    )
    assert public == ["/health"]


def test_the_permission_is_published_in_the_openapi_spec(tmp_path: Path) -> None:
    with Keel(load_settings({}, home=str(tmp_path), capture_packages=False)) as keel:
        spec = create_app(keel).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "x-keel-permission" in operation, f"{method.upper()} {path}"


def test_a_route_without_a_declaration_cannot_be_built() -> None:
    router = APIRouter(route_class=KeelRoute)

    with pytest.raises(RuntimeError, match="declares no permission"):

        @router.get("/forgotten")
        def forgotten(request: Request) -> None:  # pragma: no cover - never registered
            return None
