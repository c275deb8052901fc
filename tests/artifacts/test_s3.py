"""S3ArtifactStore beyond the contract: URLs, lazy imports, prefixes, aborted uploads, errors."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import keel
from keel.artifacts.store import ArtifactStore
from keel.backends.s3 import S3ArtifactStore
from keel.errors import ArtifactNotFound, BackendUnavailable, InvalidArgument, MissingDependency

_SOURCE_ROOT = str(Path(keel.__file__).resolve().parent.parent)


def test_importing_the_backend_does_not_import_s3fs_or_botocore() -> None:
    code = (
        f"import sys; sys.path.insert(0, {_SOURCE_ROOT!r}); import keel.backends.s3; "
        "loaded = sorted(m for m in ('s3fs', 'botocore', 'boto3', 'aiobotocore', 'fsspec') "
        "if m in sys.modules); print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    assert out.stdout.strip() == ""


def test_a_missing_s3fs_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(MissingDependency) as caught:
        S3ArtifactStore("s3://bucket/prefix")
    assert caught.value.extra == "s3"
    assert "pip install 'keelml[s3]'" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://bucket/x",
        "bucket/x",
        "s3://",
        "s3:///x",
        "s3://Bad_Bucket/x",
        "s3://b/x",
        "s3://bucket/../x",
        "s3://bucket/a/%2e%2e/x",
        "s3://bucket/x?versionId=1",
        "s3://bucket/x#frag",
    ],
)
def test_invalid_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidArgument):
        S3ArtifactStore(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket", "s3://bucket"),
        ("s3://bucket/", "s3://bucket"),
        ("s3://bucket/a/b/", "s3://bucket/a/b"),
        ("s3://my.bucket-1/./runs", "s3://my.bucket-1/runs"),
    ],
)
def test_the_url_is_normalized(url: str, expected: str) -> None:
    assert S3ArtifactStore(url).url == expected


@pytest.fixture
def make_store(s3_endpoint: str, s3_bucket: str, s3_storage_options: dict[str, Any]) -> Any:
    def make(prefix: str = "") -> S3ArtifactStore:
        return S3ArtifactStore(
            f"s3://{s3_bucket}/{prefix}",
            endpoint_url=s3_endpoint,
            storage_options=s3_storage_options,
        )

    return make


@pytest.mark.s3
def test_the_store_satisfies_the_port(make_store: Any) -> None:
    store: ArtifactStore = make_store("p")
    assert store.url.endswith("/p")


@pytest.mark.s3
def test_stores_on_different_prefixes_do_not_see_each_other(
    make_store: Any, s3_client: Any, s3_bucket: str
) -> None:
    one, other, root = make_store("runs/1"), make_store("runs/10"), make_store("")
    one.put_bytes(b"1", "model.bin")
    other.put_bytes(b"10", "model.bin")
    assert [e.path for e in one.list(recursive=True)] == ["model.bin"]
    assert one.open("model.bin").read() == b"1"
    one.delete("model.bin")
    assert other.open("model.bin").read() == b"10"
    assert [e.path for e in root.list(recursive=True)] == ["runs/10/model.bin"]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["runs/10/model.bin"]


@pytest.mark.s3
def test_a_failed_multipart_upload_is_aborted(
    make_store: Any, s3_client: Any, s3_bucket: str
) -> None:
    store = make_store("p")

    class FailsAfterTwoParts(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1, /) -> bytes:
            if self.sent >= 12 * 1024 * 1024:
                raise RuntimeError("source broke")
            self.sent += 1024 * 1024
            return b"p" * (1024 * 1024)

    with pytest.raises(RuntimeError, match="source broke"):
        store.put_stream(FailsAfterTwoParts(), "big.bin")
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


@pytest.mark.s3
def test_a_key_that_is_both_an_object_and_a_prefix_is_deleted_whole(
    make_store: Any, s3_client: Any, s3_bucket: str
) -> None:
    for key in ("p/a", "p/a/x", "p/ab"):
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    store = make_store("p")
    store.delete("a")
    assert [e.path for e in store.list(recursive=True)] == ["ab"]


@pytest.mark.s3
def test_objects_with_unsafe_names_written_by_others_are_not_listed(
    make_store: Any, s3_client: Any, s3_bucket: str
) -> None:
    for key in ("p/ok.txt", "p/a\\b", "p/c:d", "p/dir/"):
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    store = make_store("p")
    assert [e.path for e in store.list(recursive=True)] == ["ok.txt"]


@pytest.mark.s3
def test_a_missing_bucket_reads_as_not_found_and_fails_writes_as_unavailable(
    s3_endpoint: str, s3_storage_options: dict[str, Any]
) -> None:
    store = S3ArtifactStore(
        "s3://keel-no-such-bucket/p",
        endpoint_url=s3_endpoint,
        storage_options=s3_storage_options,
    )
    with pytest.raises(ArtifactNotFound):
        store.open("k")
    with pytest.raises(BackendUnavailable, match="keel-no-such-bucket"):
        store.put_bytes(b"x", "k")


def test_an_unreachable_endpoint_is_backend_unavailable(tmp_path: Path) -> None:
    store = S3ArtifactStore(
        "s3://bucket/p",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        storage_options={
            "key": "k",
            "secret": "s",
            "client_kwargs": {"region_name": "us-east-1"},
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
        },
    )
    with pytest.raises(BackendUnavailable) as caught:
        store.info("k")
    assert caught.value.http_status == 503
    with pytest.raises(BackendUnavailable):
        store.put_bytes(b"x", "k")
    with pytest.raises(BackendUnavailable):
        store.list()
