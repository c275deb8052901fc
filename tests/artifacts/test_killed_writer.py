"""A writer killed with SIGKILL in the middle of a large artifact leaves nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import keel
from keel.backends.localfs import LocalArtifactStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

_SOURCE_ROOT = str(Path(keel.__file__).resolve().parent.parent)

# The child streams a large artifact from a source that, after 8 MiB have been handed out (and
# so written to the temporary file), reports "mid-write" on stdout and then blocks reading stdin,
# which the parent never writes to. The parent kills it there: no sleeps, no races.
_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[3])
from keel.backends.localfs import LocalArtifactStore

class Source:
    def __init__(self):
        self.handed_out = 0

    def read(self, size=-1):
        if self.handed_out >= 8 * 1024 * 1024:
            sys.stdout.write("mid-write\n")
            sys.stdout.flush()
            sys.stdin.readline()  # blocks until killed
            raise SystemExit("the parent should have killed us")
        self.handed_out += 1024 * 1024
        return b"N" * (1024 * 1024)

store = LocalArtifactStore(sys.argv[1])
store.put_stream(Source(), sys.argv[2])
"""


def _kill_mid_write(root: Path, key: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), key, _SOURCE_ROOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line != b"mid-write\n":
            child.wait(timeout=30)
            stderr = child.stderr.read().decode() if child.stderr else ""
            pytest.fail(f"the child did not reach the middle of the write: {line!r} {stderr}")
        partial = list((root / ".keel-tmp").iterdir())
        assert len(partial) == 1
        assert partial[0].stat().st_size >= 7 * 1024 * 1024  # really mid-write
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pipe in (child.stdin, child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()


def test_a_killed_writer_leaves_no_partial_new_artifact(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalArtifactStore(root).put_bytes(b"other", "other.txt")
    _kill_mid_write(root, "models/big.bin")

    reopened = LocalArtifactStore(root)
    assert not reopened.exists("models/big.bin")
    assert not reopened.exists("models")
    assert [e.path for e in reopened.list(recursive=True)] == ["other.txt"]
    assert [e.path for e in reopened.list()] == ["other.txt"]
    reopened.put_bytes(b"after", "models/big.bin")
    assert reopened.open("models/big.bin").read() == b"after"


def test_a_killed_writer_leaves_the_old_content_intact_when_overwriting(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalArtifactStore(root).put_bytes(b"version 1", "models/big.bin")
    _kill_mid_write(root, "models/big.bin")

    reopened = LocalArtifactStore(root)
    assert reopened.open("models/big.bin").read() == b"version 1"
    assert reopened.info("models/big.bin").size == len(b"version 1")
    assert [e.path for e in reopened.list(recursive=True)] == ["models/big.bin"]


def test_the_killed_writers_temporary_file_is_cleaned_once_stale(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalArtifactStore(root)
    _kill_mid_write(root, "big.bin")
    assert len(list((root / ".keel-tmp").iterdir())) == 1

    LocalArtifactStore(root)  # a fresh leftover is kept: its writer might be alive
    assert len(list((root / ".keel-tmp").iterdir())) == 1
    LocalArtifactStore(root, stale_temp_seconds=0)
    assert list((root / ".keel-tmp").iterdir()) == []
