"""Tracking with artifacts on S3: the whole path from KEEL_ARTIFACTS_URL=s3://… to download."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel import Keel
from keel.config import load_settings
from keel.errors import InvalidArgument


@pytest.mark.s3
def test_runs_log_and_download_artifacts_on_s3(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Credentials reach s3fs the usual AWS way; keel only knows the URL and the endpoint.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "keel-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "keel-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = load_settings(
        {},
        database_url=f"sqlite:///{tmp_path / 'keel.db'}",
        artifacts_url=f"s3://{s3_bucket}/team-a",
        s3_endpoint_url=s3_endpoint,
        capture_packages=False,
    )
    src = tmp_path / "weights.bin"
    src.write_bytes(b"\x00\x01" * 100_000)
    with Keel(settings) as client:
        run = client.create_run("s3-exp", capture=False)
        client.artifacts.log_artifact(run.run_id, src, "model")
        client.artifacts.log_dict(run.run_id, {"lr": 0.1}, "config.json")
        listed = {a.path: a for a in client.artifacts.list_artifacts(run.run_id)}
        assert set(listed) == {"model", "config.json"}
        assert listed["config.json"].sha256 is not None
        out = client.artifacts.download_artifacts(run.run_id, dst_path=tmp_path / "dl")
        assert (out / "model" / "weights.bin").read_bytes() == src.read_bytes()
        with pytest.raises(InvalidArgument):
            client.artifacts.log_text(run.run_id, "x", "../../other-team/x.txt")
        assert client.artifact_store.url.startswith(f"s3://{s3_bucket}/team-a")
