"""``create_app``: the keel server as an ASGI app over one :class:`~keel.app.Keel` client.

Everything a request touches is reached through ``app.state.keel`` (a ServerState), so one
process can hold several apps (tests do). Routes come from the routers of ``keel.api.v1``,
``keel.api.mlflow`` and the operator endpoints; every one of them is a KeelRoute, which
authorizes before the endpoint runs.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from keel.api._errors import install_error_handlers
from keel.api._limits import BodyLimitMiddleware
from keel.api._ops import MetricsMiddleware, RequestMetrics
from keel.api._ops import router as ops_router
from keel.api._security import SecurityHeadersMiddleware
from keel.api._state import ServerConfig, ServerState
from keel.app import Keel

if TYPE_CHECKING:
    from keel.auth import AuthService

PUBLIC_ROUTES = frozenset({"/openapi.json"})
"""Routes outside the API routers (no KeelRoute): the OpenAPI document, public on purpose."""


def create_app(
    keel: Keel,
    config: ServerConfig | None = None,
    *,
    auth: AuthService | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]] | None = None,
) -> FastAPI:
    """The server app. With ``config.auth`` every request is authenticated by ``auth`` (by
    default ``keel.auth``, the accounts in the same metadata store)."""
    from keel import __version__
    from keel.api.mlflow import routers as mlflow_routers
    from keel.api.v1 import routers as v1_routers

    config = config or ServerConfig()
    if config.auth and auth is None:
        auth = keel.auth
    app = FastAPI(
        title="keel",
        version=__version__,
        summary="keel's control plane: tracking, datasets, artifacts, registry, governance, "
        "and an MLflow-compatible API",
        docs_url=None,  # the interactive docs load scripts from a CDN; keel works offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.keel = ServerState(keel, config, auth)
    metrics = RequestMetrics()
    app.state.request_metrics = metrics
    install_error_handlers(app)
    for router in (ops_router, *v1_routers(), *mlflow_routers()):
        # The routes are added as they are (paths already prefixed) rather than through
        # include_router, so the app's route table is flat: every entry is the KeelRoute
        # that authorizes, which tests/api/test_route_table.py walks.
        app.router.routes.extend(router.routes)
    # Outermost first: metrics see every answer, limits refuse oversized bodies before any
    # route reads them, security headers go on every response.
    app.add_middleware(SecurityHeadersMiddleware)
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Keel-Actor"])
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes,
                       streaming_prefixes=("/api/v1/artifacts/", "/api/v1/artifact-uploads/",
                                           "/api/2.0/mlflow-artifacts/artifacts/"))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
