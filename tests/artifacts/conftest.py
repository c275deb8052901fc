"""Fixtures for the artifact tests: a moto S3 server on loopback, started once per session."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from keel.config import load_settings

_START_TIMEOUT = 30.0
_CREDENTIALS = {"key": "keel-test", "secret": "keel-test"}


def _unavailable(reason: str) -> None:
    if load_settings().require_services:
        pytest.fail(f"moto S3 server unavailable and KEEL_REQUIRE_SERVICES is set: {reason}")
    pytest.skip(f"moto S3 server unavailable: {reason}")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server (skips if it cannot start)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        _unavailable(f"moto[server] is not installed ({exc})")
        raise  # unreachable: _unavailable skips or fails
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits forever if the server thread dies before it is ready; bound the wait.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(_START_TIMEOUT)
    if starter.is_alive():
        _unavailable(f"it did not start within {_START_TIMEOUT:.0f} s")
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage_options() -> dict[str, Any]:
    """s3fs options for the moto server: dummy credentials, small multipart blocks (5 MiB, the
    S3 minimum) so multi-MiB test files take the multipart path, and one shared s3fs instance
    (creating a botocore client takes ~0.3 s; stores still keep no listings cache)."""
    return {
        **_CREDENTIALS,
        "client_kwargs": {"region_name": "us-east-1"},
        "default_block_size": 5 * 1024 * 1024,
        "skip_instance_cache": False,
    }


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str) -> Iterator[Any]:
    """A boto3 client on the moto server, for setting up and inspecting buckets."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=_CREDENTIALS["key"],
        aws_secret_access_key=_CREDENTIALS["secret"],
        region_name="us-east-1",
    )
    yield client
    client.close()


@pytest.fixture
def s3_bucket(s3_client: Any) -> Iterator[str]:
    """A fresh bucket on the moto server, emptied and removed after the test."""
    name = f"keel-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3_client.delete_objects(Bucket=name, Delete={"Objects": keys})
    for upload in s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3_client.abort_multipart_upload(
            Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    s3_client.delete_bucket(Bucket=name)
