from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

import keel
from keel import Keel
from keel.errors import InvalidArgument, InvalidArtifactPath, KeelError


def test_files_directories_text_and_dicts_round_trip_with_digests(
    fluent: Keel, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    single = tmp_path / "model.bin"
    single.write_bytes(b"weights")
    with keel.start_run("art") as run:
        keel.log_artifact(single, "models")
        keel.log_artifacts(src, "data")
        keel.log_text("hello", "notes/readme.md")
        keel.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        keel.log_dict({"a": 1}, "config.yaml")
    top = {a.path: a for a in keel.list_artifacts(run.run_id)}
    assert {"models", "data", "notes", "config.json", "config.yaml"} <= set(top)
    assert top["models"].is_dir
    assert top["config.json"].sha256 is not None and len(top["config.json"].sha256) == 64
    nested = keel.list_artifacts(run.run_id, "data/sub")
    assert [(a.path, a.size) for a in nested] == [("data/sub/b.bin", 3 * 1024 * 1024)]

    out = keel.download_artifacts(run.run_id, dst_path=tmp_path / "out")
    assert (out / "models" / "model.bin").read_bytes() == b"weights"
    assert (out / "data" / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    assert json.loads((out / "config.json").read_text()) == {"a": 1, "b": [1, 2]}
    assert yaml.safe_load((out / "config.yaml").read_text()) == {"a": 1}
    one = keel.download_artifacts(run.run_id, "notes/readme.md", tmp_path / "one")
    assert one.read_text() == "hello"


def test_a_tampered_artifact_fails_its_digest_check_on_download(
    fluent: Keel, tmp_path: Path
) -> None:
    with keel.start_run("art") as run:
        keel.log_text("original", "file.txt")
    stored = Path(fluent.artifact_store.url) / run.run.artifact_location / "file.txt"
    stored.write_text("tampered")
    with pytest.raises(KeelError, match="sha256"):
        keel.download_artifacts(run.run_id, "file.txt", tmp_path / "dl")


@pytest.mark.parametrize(
    "bad", ["../escape.txt", "/etc/passwd", "a/../../b", "%2e%2e/x", "nul\x00.txt"]
)
def test_unsafe_artifact_paths_are_refused(fluent: Keel, bad: str) -> None:
    with keel.start_run("art") as run:
        with pytest.raises(InvalidArgument):
            keel.log_text("x", bad)
        with pytest.raises(InvalidArgument):
            keel.list_artifacts(run.run_id, bad)
    assert keel.list_artifacts(run.run_id) == [] or all(
        a.path.startswith("_keel") for a in keel.list_artifacts(run.run_id)
    )


def test_a_symlink_leaving_the_logged_directory_is_refused_and_nothing_is_copied(
    fluent: Keel, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy")
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("fine")
    (src / "link.txt").symlink_to(secret)
    with keel.start_run("art", capture=False) as run, pytest.raises(InvalidArtifactPath):
        keel.log_artifacts(src)
    assert keel.list_artifacts(run.run_id) == []


def test_log_figure_stores_a_matplotlib_png(fluent: Keel, tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with keel.start_run("art") as run:
        keel.log_figure(fig, "plots/curve.png")
    plt.close(fig)
    path = keel.download_artifacts(run.run_id, "plots/curve.png", tmp_path / "fig")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_requirements_are_captured_as_an_artifact_when_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    keel.connect(f"sqlite:///{tmp_path / 'k.db'}", artifacts_url=str(tmp_path / "a"))
    try:
        with keel.start_run("env") as run:
            pass
        files = {a.path for a in keel.list_artifacts(run.run_id, "_keel")}
        assert "_keel/requirements.txt" in files
        text = keel.download_artifacts(run.run_id, "_keel/requirements.txt", tmp_path / "r")
        assert "numpy==" in text.read_text().lower()
    finally:
        keel.disconnect()
