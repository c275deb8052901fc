"""LocalArtifactStore beyond the contract: symlinks, temporary files, conflicts, concurrency."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from keel.artifacts.store import ArtifactStore
from keel.backends.localfs import LocalArtifactStore
from keel.errors import ArtifactNotFound, Conflict, InvalidArgument, InvalidArtifactPath

TMP = ".keel-tmp"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> LocalArtifactStore:
    return LocalArtifactStore(root)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the store, with a secret in it."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_bytes(b"secret")
    return path


def test_the_store_satisfies_the_port(store: LocalArtifactStore) -> None:
    port: ArtifactStore = store
    assert port.url == str(store.root)


def test_the_root_is_created_and_resolved(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    store = LocalArtifactStore(tmp_path / "link" / "a" / "b")
    assert store.root == (tmp_path / "real" / "a" / "b").resolve()
    store.put_bytes(b"x", "k")
    assert (tmp_path / "real" / "a" / "b" / "k").read_bytes() == b"x"


def test_a_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(InvalidArgument, match="not a directory"):
        LocalArtifactStore(tmp_path / "file")


# -- symlinks ----------------------------------------------------------------------------


def test_a_symlink_to_a_directory_outside_cannot_be_read_written_or_listed(
    store: LocalArtifactStore, root: Path, outside: Path, tmp_path: Path
) -> None:
    (root / "escape").symlink_to(outside)
    with pytest.raises(InvalidArtifactPath, match="outside the artifact root"):
        store.open("escape/secret.txt")
    with pytest.raises(InvalidArtifactPath):
        store.get_file("escape/secret.txt", tmp_path / "stolen")
    with pytest.raises(InvalidArtifactPath):
        store.info("escape/secret.txt")
    with pytest.raises(InvalidArtifactPath):
        store.exists("escape")
    with pytest.raises(InvalidArtifactPath):
        store.list("escape")
    with pytest.raises(InvalidArtifactPath):
        store.put_bytes(b"planted", "escape/planted.txt")
    with pytest.raises(InvalidArtifactPath):
        store.put_bytes(b"planted", "escape/new/dir/planted.txt")
    with pytest.raises(InvalidArtifactPath):
        store.delete("escape/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert not (tmp_path / "stolen").exists()


def test_a_symlink_to_etc_is_refused(store: LocalArtifactStore, root: Path) -> None:
    (root / "etc").symlink_to("/etc")
    with pytest.raises(InvalidArtifactPath):
        store.open("etc/passwd")
    with pytest.raises(InvalidArtifactPath):
        store.list("etc", recursive=True)
    assert store.list() == []
    assert store.list(recursive=True) == []


def test_a_symlinked_file_pointing_outside_is_refused(
    store: LocalArtifactStore, root: Path, outside: Path
) -> None:
    (root / "model.bin").symlink_to(outside / "secret.txt")
    with pytest.raises(InvalidArtifactPath):
        store.open("model.bin")
    with pytest.raises(InvalidArtifactPath):
        store.put_bytes(b"overwrite", "model.bin")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert store.list() == []


def test_deleting_a_symlink_removes_the_link_and_never_its_target(
    store: LocalArtifactStore, root: Path, outside: Path
) -> None:
    (root / "escape").symlink_to(outside)
    store.delete("escape")
    assert not (root / "escape").is_symlink()
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_symlinks_that_stay_inside_the_root_work(store: LocalArtifactStore, root: Path) -> None:
    store.put_bytes(b"v1", "models/v1/model.bin")
    (root / "latest").symlink_to(root / "models" / "v1")
    (root / "models" / "loop").symlink_to(root / "models")
    assert store.open("latest/model.bin").read() == b"v1"
    assert store.info("latest").is_dir
    assert [e.path for e in store.list("latest")] == ["latest/model.bin"]
    assert [e.path for e in store.list(recursive=True)] == [
        "latest/model.bin",
        "models/v1/model.bin",
    ]


def test_a_temp_dir_replaced_by_a_symlink_is_refused(
    store: LocalArtifactStore, root: Path, outside: Path
) -> None:
    (root / TMP).rmdir()
    (root / TMP).symlink_to(outside)
    with pytest.raises(InvalidArgument, match="plain directory"):
        store.put_bytes(b"x", "k")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


# -- temporary files -------------------------------------------------------------------------


def test_writes_leave_no_temporary_files(store: LocalArtifactStore, root: Path) -> None:
    store.put_bytes(b"x" * 1000, "a/b")
    store.put_bytes(b"y", "a/b")
    assert list((root / TMP).iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_artifacts_get_the_usual_file_permissions(store: LocalArtifactStore, root: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    store.put_bytes(b"x", "k")
    assert (root / "k").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_removes_its_temporary_file(store: LocalArtifactStore, root: Path) -> None:
    class Broken:
        def read(self, size: int = -1) -> bytes:
            raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        store.put_stream(Broken(), "k")  # type: ignore[arg-type]
    assert list((root / TMP).iterdir()) == []
    assert not store.exists("k")


def test_the_temp_dir_is_never_listed_nor_addressable(
    store: LocalArtifactStore, root: Path
) -> None:
    (root / TMP / "put-leftover.part").write_bytes(b"partial")
    assert store.list() == []
    assert store.list(recursive=True) == []
    with pytest.raises(InvalidArtifactPath, match="reserved"):
        store.open(f"{TMP}/put-leftover.part")


def test_stale_temporary_files_are_removed_when_a_store_opens(root: Path) -> None:
    LocalArtifactStore(root)
    stale = root / TMP / "put-stale.part"
    fresh = root / TMP / "put-fresh.part"
    stale.write_bytes(b"old")
    fresh.write_bytes(b"new")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    LocalArtifactStore(root)
    assert not stale.exists()
    assert fresh.exists()


def test_names_on_disk_that_are_not_safe_keys_are_not_listed(
    store: LocalArtifactStore, root: Path
) -> None:
    for name in ["back\\slash", "colon:name", "%2e%2e", "new\nline", ".keel-other"]:
        (root / name).write_bytes(b"x")
    (root / "ok.txt").write_bytes(b"x")
    assert [e.path for e in store.list()] == ["ok.txt"]
    assert [e.path for e in store.list(recursive=True)] == ["ok.txt"]


# -- conflicts ---------------------------------------------------------------------------------


def test_writing_below_a_file_is_a_conflict(store: LocalArtifactStore) -> None:
    store.put_bytes(b"file", "a")
    with pytest.raises(Conflict, match="parent"):
        store.put_bytes(b"x", "a/b")
    assert store.open("a").read() == b"file"


def test_writing_over_a_directory_is_a_conflict(store: LocalArtifactStore) -> None:
    store.put_bytes(b"x", "a/b")
    with pytest.raises(Conflict, match="directory"):
        store.put_bytes(b"y", "a")
    assert store.open("a/b").read() == b"x"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_not_an_artifact(store: LocalArtifactStore, root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(ArtifactNotFound):
        store.open("pipe")
    with pytest.raises(ArtifactNotFound):
        store.info("pipe")
    assert store.list() == []


# -- concurrency -------------------------------------------------------------------------------


def test_concurrent_writers_to_one_key_leave_one_whole_version(store: LocalArtifactStore) -> None:
    versions = [bytes([i]) * 300_000 for i in range(8)]
    barrier = threading.Barrier(len(versions))
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                store.put_bytes(data, "shared/model.bin")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.open("shared/model.bin").read() in versions
    assert [e.path for e in store.list(recursive=True)] == ["shared/model.bin"]


def test_a_reader_keeps_the_version_it_opened_while_the_key_is_overwritten(
    store: LocalArtifactStore,
) -> None:
    store.put_bytes(b"a" * 100_000, "k")
    with store.open("k") as reader:
        head = reader.read(10)
        store.put_bytes(b"b" * 50_000, "k")
        rest = reader.read()
    assert head + rest == b"a" * 100_000
    assert store.open("k").read() == b"b" * 50_000


def test_a_delete_racing_writes_in_the_same_directory_never_loses_a_write(
    store: LocalArtifactStore,
) -> None:
    stop = threading.Event()

    def delete_loop() -> None:
        while not stop.is_set():
            store.delete("d/victim")

    deleter = threading.Thread(target=delete_loop)
    deleter.start()
    try:
        for i in range(200):
            store.put_bytes(b"v", "d/victim")
            store.put_bytes(str(i).encode(), "d/keep")
            assert store.open("d/keep").read() == str(i).encode()
    finally:
        stop.set()
        deleter.join()
