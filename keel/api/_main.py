"""The app ``keel server`` runs, built from settings: ``uvicorn --factory`` calls
:func:`app_from_settings` once per worker process, each with its own connection pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from keel.api._state import MiB, ServerConfig
from keel.api.app import create_app
from keel.app import Keel
from keel.config import Settings, load_settings


def server_config(settings: Settings) -> ServerConfig:
    origins = tuple(o.strip() for o in (settings.server_cors_origins or "").split(",")
                    if o.strip())
    return ServerConfig(
        auth=settings.server_auth,
        max_body_bytes=settings.server_max_body_mb * MiB,
        max_artifact_bytes=settings.server_max_artifact_mb * MiB,
        cors_origins=origins,
    )


def app_from_settings(settings: Settings | None = None) -> FastAPI:
    """A server app over a Keel client it owns (closed when the app shuts down)."""
    settings = settings or load_settings()
    # The server records no environment of its own and never buffers: it writes what it gets.
    keel = Keel(settings.replace(tracking_url=None, capture_git=False, capture_packages=False,
                                 capture_system=False))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            keel.close()

    return create_app(keel, server_config(settings), lifespan=lifespan)
