"""keel's HTTP server: ``create_app(keel, ServerConfig(...))`` builds the ASGI app that
``keel server`` runs."""

from keel.api._state import ServerConfig
from keel.api.app import create_app

__all__ = ["ServerConfig", "create_app"]
