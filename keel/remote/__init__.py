"""keel's HTTP transport, client side: the tracking and artifact ports over a keel server's
REST API (``HttpMetadataStore``, ``HttpArtifactStore``) and the registry-level services, which
the server runs itself so that it enforces approvals and permissions (``keel.remote.registry``).
"""

from __future__ import annotations

from keel.config import Settings
from keel.errors import InvalidArgument
from keel.remote._http import HttpTransport
from keel.remote.artifacts import HttpArtifactStore
from keel.remote.metadata import HttpMetadataStore

__all__ = ["HttpArtifactStore", "HttpMetadataStore", "HttpTransport", "open_remote"]


def open_remote(settings: Settings, user: str | None) -> tuple[HttpMetadataStore,
                                                               HttpArtifactStore]:
    """The tracking and artifact ports over the server at ``settings.tracking_url``."""
    url = settings.tracking_url or ""
    if not url.startswith(("http://", "https://")):
        raise InvalidArgument(
            f"KEEL_TRACKING_URL={url!r} is not an http:// or https:// URL of a keel server"
        )
    http = HttpTransport(
        url, token=settings.tracking_token, username=settings.tracking_username,
        password=settings.tracking_password, actor=user, timeout=settings.http_timeout,
    )
    return HttpMetadataStore(http), HttpArtifactStore(http)
