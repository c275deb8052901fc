"""Streaming copies with size and sha256."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from keel.artifacts.digest import copy_with_digest, save_to_local_file, sha256_file


def test_copy_with_digest_reports_size_and_sha256_and_copies_everything() -> None:
    data = bytes(range(256)) * 5000
    target = io.BytesIO()
    size, digest = copy_with_digest(io.BytesIO(data), target, chunk_size=4096)
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert target.getvalue() == data


def test_copy_with_digest_never_asks_for_more_than_one_chunk() -> None:
    class Recording(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.sizes: list[int] = []

        def read(self, size: int | None = -1, /) -> bytes:
            self.sizes.append(-1 if size is None else size)
            return super().read(size)

    source = Recording(b"x" * 10_000)
    copy_with_digest(source, io.BytesIO(), chunk_size=1000)
    assert set(source.sizes) == {1000}


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1000)
    assert sha256_file(path) == (3000, hashlib.sha256(b"abc" * 1000).hexdigest())


def test_save_to_local_file_creates_parents_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    assert save_to_local_file(io.BytesIO(b"data"), target)[0] == 4
    assert target.read_bytes() == b"data"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_a_failed_download_keeps_the_old_local_file(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1, /) -> bytes:
            raise ConnectionError("network gone")

    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    with pytest.raises(ConnectionError):
        save_to_local_file(Broken(), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]
