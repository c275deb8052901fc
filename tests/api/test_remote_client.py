"""keel's Python API over HTTP: the same calls, against a live server, land in the server's
own store; errors come back as the same KeelError classes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import keel
from keel.app import Keel
from keel.config import load_settings
from keel.errors import InvalidFilter, ParamConflict, RunNotFound


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Keel]]:
    from keel.api import create_app
    from keel.api._serve import serve_in_thread

    settings = load_settings({}, home=str(tmp_path / "server"), capture_packages=False)
    with Keel(settings) as server_keel, serve_in_thread(create_app(server_keel)) as url:
        yield url, server_keel


@pytest.fixture
def connected(server: tuple[str, Keel], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Keel]:
    monkeypatch.chdir(tmp_path)
    client = keel.connect(server[0], capture_packages=False, capture_git=False, user="ana",
                          metric_flush_interval=0.05)
    yield client
    keel.disconnect()


def test_a_run_logged_through_the_server_is_in_the_servers_store(
    server: tuple[str, Keel], connected: Keel, tmp_path: Path
) -> None:
    _, stored = server
    with keel.start_run("remote-exp", name="first") as run:
        keel.log_params({"lr": 0.01, "depth": 3})
        for step in range(100):
            keel.log_metric("loss", 1.0 / (step + 1))
        keel.log_metric("nan_metric", math.nan)
        keel.set_tag("team", "risk")
        keel.log_text("hello", "notes/hello.txt")
        keel.log_dict({"a": 1}, "config.json")
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", None]})
        keel.log_dataset(frame, name="train-set")
    remote_run = connected.runs.get_run(run.run_id)
    local_run = stored.runs.get_run(run.run_id)
    assert remote_run == local_run
    assert local_run.user == "ana"
    assert local_run.param_values == {"lr": 0.01, "depth": 3}
    assert len(stored.runs.get_metric_history(run.run_id, "loss")) == 100
    assert math.isnan(local_run.metrics["nan_metric"].value)
    assert local_run.status.value == "FINISHED"
    paths = sorted(a.path for a in stored.artifacts.list_artifacts(run.run_id, "notes"))
    assert paths == ["notes/hello.txt"]
    out = keel.download_artifacts(run.run_id, "notes/hello.txt", tmp_path / "out")
    assert Path(out).read_text() == "hello"
    inputs = stored.datasets.list_run_inputs(run.run_id)
    assert [i.context for i in inputs] == ["train"]
    version = stored.datasets.get_dataset_version(inputs[0].dataset_version_id)
    assert version.name == "train-set" and version.num_rows == 3


def test_search_and_compare_work_remotely(connected: Keel) -> None:
    for lr in (0.1, 0.01, 0.001):
        with keel.start_run("search-exp", name=f"lr-{lr}"):
            keel.log_param("lr", lr)
            keel.log_metric("acc", 1 - lr)
    found = keel.search_runs("search-exp", "metrics.acc > 0.95 and params.lr < 0.05",
                             order_by=["metrics.acc DESC"])
    assert [r.name for r in found] == ["lr-0.001", "lr-0.01"]
    comparison = keel.compare_runs(list(found))
    assert comparison is not None
    with pytest.raises(InvalidFilter):
        keel.search_runs("search-exp", "metrics.acc >")


def test_errors_are_the_same_classes(connected: Keel) -> None:
    with pytest.raises(RunNotFound):
        connected.runs.get_run("0" * 32)
    with keel.start_run("errors") as run:
        keel.log_param("p", 1)
        with pytest.raises(ParamConflict):
            connected.runs.log_param(run.run_id, "p", 2)


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from keel.api._serve import free_port
    from keel.errors import BackendUnavailable

    url = f"http://127.0.0.1:{free_port()}"
    with Keel(load_settings({}, tracking_url=url, capture_packages=False,
                            capture_git=False)) as client, pytest.raises(BackendUnavailable,
                                                                         match="unreachable"):
        client.experiments.list_experiments()


def test_a_tracking_url_that_is_not_http_is_refused() -> None:
    from keel.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="not an http"):
        Keel(load_settings({}, tracking_url="ftp://host/"))
