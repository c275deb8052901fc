from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import keel
from keel import Keel
from tests.tracking._support import make_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Keel]:
    with Keel(make_settings(tmp_path / ".keel")) as c:
        yield c


@pytest.fixture
def fluent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Keel]:
    """The module-level API pointed at a fresh store in a temporary working directory."""
    monkeypatch.chdir(tmp_path)
    c = keel.connect(
        f"sqlite:///{tmp_path / '.keel' / 'keel.db'}",
        artifacts_url=str(tmp_path / ".keel" / "artifacts"),
        capture_packages=False,
        metric_flush_interval=0.05,
    )
    yield c
    keel.disconnect()
