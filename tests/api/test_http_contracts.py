"""One contract suite, two transports: the metadata and artifact contracts that the SQL and
local stores pass, run against keel's HTTP client talking to a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.artifacts.store import ArtifactStore
from keel.remote import HttpArtifactStore, HttpMetadataStore, HttpTransport
from keel.testing.artifact_contract import ArtifactStoreContract
from keel.testing.metadata_contract import MetadataStoreContract
from keel.tracking.store import MetadataStore


def _typed_metadata(store: HttpMetadataStore) -> MetadataStore:
    return store  # mypy checks here that the HTTP store implements the port


def _typed_artifacts(store: HttpArtifactStore) -> ArtifactStore:
    return store


class TestHttpMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, keel_server: str) -> Iterator[MetadataStore]:
        store = HttpMetadataStore(HttpTransport(keel_server))
        yield _typed_metadata(store)
        store.close()


class TestHttpArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def artifact_store(self, keel_server: str) -> Iterator[ArtifactStore]:
        http = HttpTransport(keel_server)
        yield _typed_artifacts(HttpArtifactStore(http))
        http.close()


class TestHttpArtifactStoreInParts(ArtifactStoreContract):
    """The same contract with a small part size, so every upload beyond 256 KiB goes through
    the upload-in-parts routes."""

    @pytest.fixture
    def artifact_store(self, keel_server: str) -> Iterator[ArtifactStore]:
        http = HttpTransport(keel_server)
        yield _typed_artifacts(HttpArtifactStore(http, part_size=256 * 1024))
        http.close()
