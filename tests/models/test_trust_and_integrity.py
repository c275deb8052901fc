"""Pickle needs trust=True; every file is checked against MODEL.yaml before loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression

from keel.errors import InvalidArgument
from keel.models import ModelIntegrityError, UntrustedModel, load_model_from_directory, save_model
from keel.models.spec import compute_model_digest, read_spec
from tests.models._nets import Doubler


@pytest.fixture
def fitted(classification: tuple[pd.DataFrame, np.ndarray]) -> LogisticRegression:
    frame, label = classification
    return LogisticRegression().fit(frame, label)


@pytest.mark.parametrize("serialization", ["pickle", "cloudpickle"])
def test_a_pickled_model_loads_only_with_trust(
    tmp_path: Path, fitted: LogisticRegression, serialization: str,
    classification: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, _ = classification
    save_model(fitted, tmp_path / "m", serialization=serialization, input_example=frame.head())
    manifest = yaml.safe_load((tmp_path / "m" / "MODEL.yaml").read_text())
    assert manifest["pickle"] is True and manifest["serialization"] == serialization
    assert manifest["flavor"] == "pickle"
    with pytest.raises(UntrustedModel, match="trust=True"):
        load_model_from_directory(tmp_path / "m")
    loaded = load_model_from_directory(tmp_path / "m", trust=True)
    assert_array_equal(loaded.predict(frame), fitted.predict(frame))
    assert_array_equal(loaded.predict_proba(frame), fitted.predict_proba(frame))


def test_the_pickle_flavor_refuses_without_trust_even_if_the_manifest_says_otherwise(
    tmp_path: Path, fitted: LogisticRegression
) -> None:
    save_model(fitted, tmp_path / "m", serialization="pickle")
    path = tmp_path / "m" / "MODEL.yaml"
    path.write_text(path.read_text().replace("pickle: true", "pickle: false"))
    with pytest.raises(UntrustedModel):
        load_model_from_directory(tmp_path / "m")


def test_a_cloudpickled_python_model_round_trips_with_trust(tmp_path: Path) -> None:
    save_model(Doubler(), tmp_path / "m", serialization="cloudpickle")
    loaded = load_model_from_directory(tmp_path / "m", trust=True)
    assert_array_equal(loaded.predict(np.array([1, 2])), np.array([2, 4]))


def test_model_yaml_is_readable_and_complete(
    tmp_path: Path, fitted: LogisticRegression, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = classification
    save_model(fitted, tmp_path / "m", input_example=frame.head(), metadata={"team": "risk"},
               requirements=["pandas>=2"])
    text = (tmp_path / "m" / "MODEL.yaml").read_text()
    manifest = yaml.safe_load(text)
    assert list(manifest)[:3] == ["format_version", "flavor", "format"]
    assert manifest["framework"] == "scikit-learn" and manifest["pickle"] is False
    assert manifest["python_version"].count(".") == 2
    assert any(r.startswith("scikit-learn==") for r in manifest["requirements"])
    assert "pandas>=2" in manifest["requirements"]
    assert manifest["metadata"] == {"team": "risk"}
    assert set(manifest["files"]) == {"model.skops", "input_example.json"}
    assert manifest["model_digest"] == compute_model_digest(manifest["files"])
    assert manifest["signature"]["inputs"][3] == {"name": "n", "dtype": "int64"}
    assert manifest["created_at"].endswith("Z")
    example = load_model_from_directory(tmp_path / "m").input_example
    pd.testing.assert_frame_equal(example, frame.head(), check_dtype=False)


def test_the_model_digest_is_the_sha256sum_table_of_the_files() -> None:
    import hashlib

    files = {"b.txt": "2" * 64, "a.txt": "1" * 64}
    table = f"{'1' * 64}  a.txt\n{'2' * 64}  b.txt\n"
    assert compute_model_digest(files) == hashlib.sha256(table.encode()).hexdigest()


@pytest.mark.parametrize(
    ("damage", "problem"),
    [("tamper", "changed"), ("delete", "missing"), ("extra", "unexpected")],
)
def test_a_damaged_model_fails_the_integrity_check_naming_the_file(
    tmp_path: Path, fitted: LogisticRegression, damage: str, problem: str
) -> None:
    save_model(fitted, tmp_path / "m")
    target = tmp_path / "m" / ("notes.txt" if damage == "extra" else "model.skops")
    if damage == "tamper":
        data = bytearray(target.read_bytes())
        data[-1] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "delete":
        target.unlink()
    else:
        target.write_text("hello")
    with pytest.raises(ModelIntegrityError, match=target.name) as caught:
        load_model_from_directory(tmp_path / "m")
    assert caught.value.details["path"] == target.name
    assert caught.value.details["problem"] == problem


def test_an_edited_file_table_fails_the_integrity_check(
    tmp_path: Path, fitted: LogisticRegression
) -> None:
    save_model(fitted, tmp_path / "m")
    path = tmp_path / "m" / "MODEL.yaml"
    manifest = yaml.safe_load(path.read_text())
    manifest["files"]["model.skops"] = "0" * 64
    path.write_text(yaml.safe_dump(manifest))
    with pytest.raises(ModelIntegrityError, match="model_digest"):
        load_model_from_directory(tmp_path / "m")


def test_a_symlink_in_the_model_directory_is_refused(
    tmp_path: Path, fitted: LogisticRegression
) -> None:
    save_model(fitted, tmp_path / "m")
    (tmp_path / "m" / "link").symlink_to("/etc/hostname")
    with pytest.raises(ModelIntegrityError, match="symbolic link"):
        load_model_from_directory(tmp_path / "m")


def test_saving_into_a_non_empty_directory_is_refused_and_leaves_nothing_behind(
    tmp_path: Path, fitted: LogisticRegression
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("x")
    with pytest.raises(InvalidArgument, match="not an empty directory"):
        save_model(fitted, tmp_path / "m")
    with pytest.raises(InvalidArgument):
        save_model(fitted, tmp_path / "n", torch_init={"in_features": 1})  # not an sklearn option
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_directory_without_model_yaml_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"MODEL\.yaml"):
        load_model_from_directory(tmp_path)


def test_read_spec_round_trips(tmp_path: Path, fitted: LogisticRegression) -> None:
    spec = save_model(fitted, tmp_path / "m")
    assert read_spec(tmp_path / "m") == spec
