from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import keel
from keel import Keel
from keel.errors import DatasetNotFound, InvalidArgument, RunNotFound


def frame(n: int = 100, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"x": [i + shift for i in range(n)], "cat": ["a", "b"] * (n // 2)})


def test_logging_the_same_data_twice_reuses_its_version(fluent: Keel) -> None:
    with keel.start_run("ds") as run:
        v1 = keel.log_dataset(frame(), name="train-set", context="train")
        again = keel.log_dataset(frame(), name="train-set", context="train")
        v2 = keel.log_dataset(frame(shift=1.0), name="train-set", context="validation")
    assert again.dataset_version_id == v1.dataset_version_id
    assert (v1.version, v2.version) == (1, 2)
    assert v1.num_rows == 100 and [c.name for c in v1.columns] == ["x", "cat"]
    assert v1.profile["x"]["max"] == 99
    inputs = keel.datasets.inputs(run.run_id)
    assert sorted((i.dataset_version_id, i.context) for i in inputs) == sorted(
        [(v1.dataset_version_id, "train"), (v2.dataset_version_id, "validation")]
    )


def test_datasets_list_versions_and_the_runs_that_used_them(fluent: Keel) -> None:
    ids = []
    for _ in range(2):
        with keel.start_run("ds") as run:
            keel.log_dataset(frame(), name="shared")
            ids.append(run.run_id)
    versions = keel.datasets.list("shared").items
    assert len(versions) == 1
    assert keel.datasets.get("shared:1").digest == versions[0].digest
    assert keel.datasets.get("shared@latest").version == 1
    assert sorted(r.run_id for r in keel.datasets.runs("shared:1")) == sorted(ids)
    with pytest.raises(DatasetNotFound):
        keel.datasets.get("shared:7")


def test_a_parquet_file_is_versioned_with_its_source(fluent: Keel, tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    frame().to_parquet(path)
    with keel.start_run("ds"):
        version = keel.log_dataset(path)
    assert version.name == "data"
    assert version.source is not None and version.source.endswith("data.parquet")
    assert version.digest == keel.log_dataset(frame(), name="in-memory").digest


def test_dataset_errors_are_clear(client: Keel) -> None:
    with pytest.raises(InvalidArgument, match="name"):
        client.datasets.log_dataset(frame())
    with pytest.raises(RunNotFound):
        client.datasets.log_dataset(frame(), name="x", run_id="f" * 32)
    assert client.datasets.list_dataset_versions().items == []
