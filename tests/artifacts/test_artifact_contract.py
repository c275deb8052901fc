"""The artifact store contract, run against every artifact store keel ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.artifacts.store import ArtifactStore
from keel.backends.localfs import LocalArtifactStore
from keel.backends.s3 import S3ArtifactStore
from keel.testing.artifact_contract import ArtifactStoreContract


class TestLocalArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def artifact_store(self, tmp_path: Path) -> ArtifactStore:
        return LocalArtifactStore(tmp_path / "artifacts")


@pytest.mark.s3
class TestS3ArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def artifact_store(
        self, s3_endpoint: str, s3_bucket: str, s3_storage_options: dict[str, Any]
    ) -> ArtifactStore:
        return S3ArtifactStore(
            f"s3://{s3_bucket}/some/prefix",
            endpoint_url=s3_endpoint,
            storage_options=s3_storage_options,
        )
