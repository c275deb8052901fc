"""The contract every :class:`~keel.artifacts.ArtifactStore` passes.

Subclass :class:`ArtifactStoreContract` in a test module and provide an ``artifact_store``
fixture that returns a fresh, empty store::

    class TestMyArtifactStore(ArtifactStoreContract):
        @pytest.fixture
        def artifact_store(self, tmp_path):
            return MyArtifactStore(tmp_path)

pytest then runs every test below against it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.artifacts.models import ArtifactInfo
from keel.artifacts.store import ArtifactStore
from keel.errors import ArtifactNotFound, InvalidArtifactPath

__all__ = ["EMPTY_KEYS", "UNSAFE_KEYS", "ArtifactStoreContract"]

UNSAFE_KEYS: tuple[str, ...] = (
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "..%2fx",
    "..%2Fx",
    "%2e%2e/x",
    "%2e%2e%2fx",
    "%252e%252e%252fx",
    "a/%2e%2e/%2e%2e/x",
    "%c0%ae%c0%ae/x",
    "..\\x",
    "a\\b",
    "/etc/passwd",
    "/",
    "//host/share/x",
    "\\\\host\\share\\x",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "c:x",
    "file:///etc/passwd",
    "s3://bucket/x",
    "a;b/../../x",
    "a?x=../x",
    "a#/../../x",
    "a\x00b",
    "a\nb",
    "a\x7fb",
    "a\u202eb",
    ".../x",
    "a/ . /b",
    "\uff0e\uff0e/x",
    ".keel-tmp/x",
    "x" * 300,
    "/".join(["abcdefgh"] * 150),
)
"""Keys every method of every store refuses with InvalidArtifactPath."""

EMPTY_KEYS: tuple[str, ...] = ("", ".", "./", "./.")
"""Keys naming the root: fine as a listing prefix, refused where a file is meant."""

_MIB = 1024 * 1024


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _ChunkedStream(io.RawIOBase):
    """Yields ``total`` bytes in short reads of at most ``step``; records requested sizes."""

    def __init__(self, total: int, step: int, fail_after: int | None = None) -> None:
        self._data = os.urandom(total)
        self._pos = 0
        self._step = step
        self._fail_after = fail_after
        self.requested: list[int] = []

    @property
    def data(self) -> bytes:
        return self._data

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        self.requested.append(size)
        if self._fail_after is not None and self._pos >= self._fail_after:
            raise RuntimeError("the source failed half-way")
        n = self._step if size < 0 else min(size, self._step)
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk


def _read(store: ArtifactStore, key: str) -> bytes:
    with store.open(key) as f:
        return f.read()


_CALLS: tuple[tuple[str, Callable[[ArtifactStore, str, Path], Any]], ...] = (
    ("put_bytes", lambda s, k, tmp: s.put_bytes(b"x", k)),
    ("put_stream", lambda s, k, tmp: s.put_stream(io.BytesIO(b"x"), k)),
    ("put_file", lambda s, k, tmp: s.put_file(tmp / "source.bin", k)),
    ("open", lambda s, k, tmp: s.open(k)),
    ("get_file", lambda s, k, tmp: s.get_file(k, tmp / "out" / "target.bin")),
    ("info", lambda s, k, tmp: s.info(k)),
    ("exists", lambda s, k, tmp: s.exists(k)),
    ("delete", lambda s, k, tmp: s.delete(k)),
    ("list", lambda s, k, tmp: s.list(k)),
    ("list_recursive", lambda s, k, tmp: s.list(k, recursive=True)),
)
_FILE_CALLS = tuple(call for call in _CALLS if not call[0].startswith("list"))


class ArtifactStoreContract:
    """Behaviour shared by every artifact store; subclasses provide ``artifact_store``."""

    @pytest.fixture
    def artifact_store(self) -> ArtifactStore:
        raise NotImplementedError("a subclass provides the artifact_store fixture")

    # -- round trips -----------------------------------------------------------------------

    def test_put_bytes_round_trips_and_reports_size_and_sha256(
        self, artifact_store: ArtifactStore
    ) -> None:
        data = b"hello artifacts\n"
        info = artifact_store.put_bytes(data, "greeting.txt")
        assert info == ArtifactInfo("greeting.txt", is_dir=False, size=16, sha256=_sha256(data))
        assert _read(artifact_store, "greeting.txt") == data

    def test_put_empty_bytes_stores_an_empty_file(self, artifact_store: ArtifactStore) -> None:
        info = artifact_store.put_bytes(b"", "empty")
        assert (info.size, info.sha256) == (0, _sha256(b""))
        assert _read(artifact_store, "empty") == b""
        assert artifact_store.info("empty").size == 0

    def test_put_file_round_trips_a_multi_mib_file(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        data = os.urandom(11 * _MIB + 123)
        source = tmp_path / "big.bin"
        source.write_bytes(data)
        info = artifact_store.put_file(source, "models/big.bin")
        assert (info.size, info.sha256) == (len(data), _sha256(data))
        target = tmp_path / "deep" / "down" / "big.bin"
        artifact_store.get_file("models/big.bin", target)
        assert target.read_bytes() == data
        assert artifact_store.info("models/big.bin").size == len(data)

    def test_put_file_of_an_empty_file(self, artifact_store: ArtifactStore, tmp_path: Path) -> None:
        source = tmp_path / "empty"
        source.write_bytes(b"")
        assert artifact_store.put_file(source, "e").size == 0
        artifact_store.get_file("e", tmp_path / "copy")
        assert (tmp_path / "copy").read_bytes() == b""

    def test_put_stream_stores_what_a_stream_of_short_reads_yields(
        self, artifact_store: ArtifactStore
    ) -> None:
        stream = _ChunkedStream(3 * _MIB + 7, step=300_001)
        info = artifact_store.put_stream(stream, "streamed.bin")  # type: ignore[arg-type]
        assert (info.size, info.sha256) == (len(stream.data), _sha256(stream.data))
        assert _read(artifact_store, "streamed.bin") == stream.data

    def test_put_stream_reads_in_bounded_chunks(self, artifact_store: ArtifactStore) -> None:
        stream = _ChunkedStream(5 * _MIB, step=5 * _MIB)
        artifact_store.put_stream(stream, "chunked.bin")  # type: ignore[arg-type]
        assert all(0 < size < 5 * _MIB for size in stream.requested)
        assert len(stream.requested) > 2

    def test_put_returns_the_normalized_key(self, artifact_store: ArtifactStore) -> None:
        assert artifact_store.put_bytes(b"1", "a/./b//c.txt/").path == "a/b/c.txt"
        assert _read(artifact_store, "a/b/c.txt") == b"1"

    def test_overwrite_replaces_the_content(self, artifact_store: ArtifactStore) -> None:
        artifact_store.put_bytes(b"old content", "k")
        info = artifact_store.put_bytes(b"new", "k")
        assert info.sha256 == _sha256(b"new")
        assert _read(artifact_store, "k") == b"new"
        assert [e.path for e in artifact_store.list()] == ["k"]

    def test_a_failing_stream_leaves_no_artifact(self, artifact_store: ArtifactStore) -> None:
        stream = _ChunkedStream(8 * _MIB, step=_MIB, fail_after=6 * _MIB)  # past a part
        with pytest.raises(RuntimeError):
            artifact_store.put_stream(stream, "dir/broken.bin")  # type: ignore[arg-type]
        assert not artifact_store.exists("dir/broken.bin")
        assert artifact_store.list(recursive=True) == []

    def test_a_failing_stream_keeps_the_old_content(self, artifact_store: ArtifactStore) -> None:
        artifact_store.put_bytes(b"old content", "kept.bin")
        stream = _ChunkedStream(8 * _MIB, step=_MIB, fail_after=6 * _MIB)  # past a part
        with pytest.raises(RuntimeError):
            artifact_store.put_stream(stream, "kept.bin")  # type: ignore[arg-type]
        assert _read(artifact_store, "kept.bin") == b"old content"

    def test_nested_keys_round_trip(self, artifact_store: ArtifactStore) -> None:
        artifact_store.put_bytes(b"deep", "a/b/c/d/e/f.txt")
        assert _read(artifact_store, "a/b/c/d/e/f.txt") == b"deep"
        assert artifact_store.info("a/b/c").is_dir

    def test_unicode_keys_round_trip(self, artifact_store: ArtifactStore) -> None:
        key = "données/模型/модель 🚀 v1.txt"
        artifact_store.put_bytes(b"unicode", key)
        assert _read(artifact_store, key) == b"unicode"
        assert [e.path for e in artifact_store.list(recursive=True)] == [key]
        assert [e.path for e in artifact_store.list("données")] == ["données/模型"]

    def test_url_is_a_non_empty_string(self, artifact_store: ArtifactStore) -> None:
        assert isinstance(artifact_store.url, str)
        assert artifact_store.url

    # -- listing ---------------------------------------------------------------------------

    def _populate(self, store: ArtifactStore) -> None:
        store.put_bytes(b"1", "b.txt")
        store.put_bytes(b"22", "a/x.txt")
        store.put_bytes(b"333", "a/sub/y.txt")
        store.put_bytes(b"4444", "ab/z.txt")
        store.put_bytes(b"55555", "c")

    def test_list_root_shows_direct_children_sorted(self, artifact_store: ArtifactStore) -> None:
        self._populate(artifact_store)
        assert artifact_store.list() == [
            ArtifactInfo("a", is_dir=True),
            ArtifactInfo("ab", is_dir=True),
            ArtifactInfo("b.txt", is_dir=False, size=1),
            ArtifactInfo("c", is_dir=False, size=5),
        ]

    def test_list_prefix_shows_its_direct_children_with_full_paths(
        self, artifact_store: ArtifactStore
    ) -> None:
        self._populate(artifact_store)
        expected = [ArtifactInfo("a/sub", is_dir=True), ArtifactInfo("a/x.txt", False, 2)]
        assert artifact_store.list("a") == expected
        assert artifact_store.list("a/") == expected
        assert artifact_store.list("./a") == expected

    def test_list_recursive_shows_all_files_sorted(self, artifact_store: ArtifactStore) -> None:
        self._populate(artifact_store)
        assert [(e.path, e.size) for e in artifact_store.list(recursive=True)] == [
            ("a/sub/y.txt", 3),
            ("a/x.txt", 2),
            ("ab/z.txt", 4),
            ("b.txt", 1),
            ("c", 5),
        ]
        assert all(not e.is_dir for e in artifact_store.list(recursive=True))
        assert [e.path for e in artifact_store.list("a", recursive=True)] == [
            "a/sub/y.txt",
            "a/x.txt",
        ]

    @pytest.mark.parametrize("prefix", ["missing", "a/missing", "c", "b.txt", "a/x.txt"])
    def test_list_of_a_missing_prefix_or_a_file_is_empty(
        self, artifact_store: ArtifactStore, prefix: str
    ) -> None:
        self._populate(artifact_store)
        assert artifact_store.list(prefix) == []
        assert artifact_store.list(prefix, recursive=True) == []

    @pytest.mark.parametrize("prefix", EMPTY_KEYS)
    def test_list_of_an_empty_store_is_empty(
        self, artifact_store: ArtifactStore, prefix: str
    ) -> None:
        assert artifact_store.list(prefix) == []
        assert artifact_store.list(prefix, recursive=True) == []

    # -- info, exists, open ----------------------------------------------------------------

    def test_info_describes_files_and_directories(self, artifact_store: ArtifactStore) -> None:
        self._populate(artifact_store)
        assert artifact_store.info("a/x.txt") == ArtifactInfo("a/x.txt", is_dir=False, size=2)
        assert artifact_store.info("a/sub/") == ArtifactInfo("a/sub", is_dir=True)

    def test_info_of_a_missing_key_raises_not_found(self, artifact_store: ArtifactStore) -> None:
        with pytest.raises(ArtifactNotFound) as caught:
            artifact_store.info("nope/never.txt")
        assert "nope/never.txt" in str(caught.value)

    def test_exists_for_files_directories_and_missing_keys(
        self, artifact_store: ArtifactStore
    ) -> None:
        self._populate(artifact_store)
        assert artifact_store.exists("a/x.txt")
        assert artifact_store.exists("a/sub")
        assert not artifact_store.exists("a/missing")
        assert not artifact_store.exists("a/x.txt/below")

    def test_open_returns_a_seekable_binary_reader(self, artifact_store: ArtifactStore) -> None:
        artifact_store.put_bytes(b"0123456789", "digits")
        with artifact_store.open("digits") as f:
            assert f.seekable()
            f.seek(5)
            assert f.read(3) == b"567"
            f.seek(-2, io.SEEK_END)
            assert f.read() == b"89"
            f.seek(0)
            assert f.tell() == 0
            assert f.read() == b"0123456789"

    @pytest.mark.parametrize("key", ["missing", "a", "a/x.txt/below"])
    def test_open_of_a_missing_key_or_a_directory_raises_not_found(
        self, artifact_store: ArtifactStore, key: str
    ) -> None:
        self._populate(artifact_store)
        with pytest.raises(ArtifactNotFound):
            artifact_store.open(key)

    def test_get_file_of_a_missing_key_raises_not_found_and_writes_nothing(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        with pytest.raises(ArtifactNotFound):
            artifact_store.get_file("missing", tmp_path / "out" / "file")
        assert not (tmp_path / "out" / "file").exists()

    def test_get_file_replaces_an_existing_local_file(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        artifact_store.put_bytes(b"stored", "k")
        target = tmp_path / "downloads" / "local"
        target.parent.mkdir()
        target.write_bytes(b"a much longer local file that gets replaced")
        artifact_store.get_file("k", target)
        assert target.read_bytes() == b"stored"
        assert [p.name for p in target.parent.iterdir()] == ["local"]  # no temporary left

    # -- delete ----------------------------------------------------------------------------

    def test_delete_removes_a_file(self, artifact_store: ArtifactStore) -> None:
        self._populate(artifact_store)
        artifact_store.delete("a/x.txt")
        assert not artifact_store.exists("a/x.txt")
        assert artifact_store.exists("a/sub/y.txt")

    def test_delete_removes_a_tree_and_nothing_beside_it(
        self, artifact_store: ArtifactStore
    ) -> None:
        self._populate(artifact_store)
        artifact_store.delete("a")
        assert not artifact_store.exists("a")
        assert [e.path for e in artifact_store.list(recursive=True)] == ["ab/z.txt", "b.txt", "c"]

    def test_deleting_the_last_file_removes_its_empty_directories(
        self, artifact_store: ArtifactStore
    ) -> None:
        artifact_store.put_bytes(b"1", "only/one/file.txt")
        artifact_store.put_bytes(b"2", "kept.txt")
        artifact_store.delete("only/one/file.txt")
        assert artifact_store.list() == [ArtifactInfo("kept.txt", is_dir=False, size=1)]

    def test_delete_of_a_missing_key_is_ignored(self, artifact_store: ArtifactStore) -> None:
        artifact_store.delete("missing")
        artifact_store.delete("missing/below")
        assert artifact_store.list() == []

    def test_not_found_errors_name_the_key(self, artifact_store: ArtifactStore) -> None:
        with pytest.raises(ArtifactNotFound) as caught:
            artifact_store.open("where/is/it.txt")
        assert caught.value.details["path"] == "where/is/it.txt"
        assert caught.value.http_status == 404

    # -- unsafe keys -----------------------------------------------------------------------

    @pytest.mark.parametrize(("method", "call"), _CALLS, ids=[name for name, _ in _CALLS])
    def test_unsafe_keys_are_rejected_by_every_method(
        self,
        artifact_store: ArtifactStore,
        tmp_path: Path,
        method: str,
        call: Callable[[ArtifactStore, str, Path], Any],
    ) -> None:
        (tmp_path / "source.bin").write_bytes(b"x")
        accepted = _not_refused(artifact_store, call, UNSAFE_KEYS, tmp_path)
        assert accepted == [], f"{method} did not raise InvalidArtifactPath for these keys"
        assert artifact_store.list(recursive=True) == []
        assert not (tmp_path / "out").exists()

    @pytest.mark.parametrize(("method", "call"), _FILE_CALLS, ids=[n for n, _ in _FILE_CALLS])
    def test_empty_keys_are_rejected_where_a_file_is_meant(
        self,
        artifact_store: ArtifactStore,
        tmp_path: Path,
        method: str,
        call: Callable[[ArtifactStore, str, Path], Any],
    ) -> None:
        (tmp_path / "source.bin").write_bytes(b"x")
        accepted = _not_refused(artifact_store, call, EMPTY_KEYS, tmp_path)
        assert accepted == [], f"{method} did not raise InvalidArtifactPath for these keys"
        assert artifact_store.list(recursive=True) == []


def _not_refused(
    store: ArtifactStore,
    call: Callable[[ArtifactStore, str, Path], Any],
    keys: tuple[str, ...],
    tmp_path: Path,
) -> list[tuple[str, str]]:
    """The keys ``call`` did not refuse with an InvalidArtifactPath naming them, with what
    happened instead."""
    out = []
    for key in keys:
        try:
            call(store, key, tmp_path)
        except InvalidArtifactPath as exc:
            if exc.details.get("path") != key:
                out.append((key, f"details name {exc.details.get('path')!r}"))
        except Exception as exc:
            out.append((key, f"raised {type(exc).__name__}: {exc}"))
        else:
            out.append((key, "accepted"))
    return out
