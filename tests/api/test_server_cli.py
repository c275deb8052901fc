"""``keel server`` as a user runs it: a real process, reachable over HTTP, refusing to expose
an unauthenticated server beyond loopback, and refusing --auth with no admin to sign in as."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from keel.api._serve import free_port
from keel.app import Keel
from keel.config import load_settings


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["KEEL_HOME"] = str(home)
    return env


def _keel(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keel.cli", *args], capture_output=True,
                          text=True, env=_env(home), timeout=60, check=False)


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"server exited: {output}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("server did not become healthy")


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "keel.cli", "server", "--port", str(port), "--workers", "2",
         "--log-level", "warning"],
        env=_env(tmp_path / "store"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url, tmp_path / "store"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_run_logged_through_keel_server_lands_in_its_store(
    server_process: tuple[str, Path]
) -> None:
    url, home = server_process
    settings = load_settings({}, tracking_url=url, capture_packages=False, capture_git=False)
    with Keel(settings) as client:
        run = client.create_run("cli-exp", name="over-http")
        client.runs.log_metrics(run.run_id, {"loss": 0.25, "acc": 0.9}, step=1)
        client.runs.end_run(run.run_id)
    with Keel(load_settings({}, home=str(home), capture_packages=False)) as stored:
        found = stored.runs.get_run(run.run_id)
        assert found.metric_values == {"loss": 0.25, "acc": 0.9}
        assert found.status.value == "FINISHED"
    metrics = httpx.get(f"{url}/metrics").text
    assert "keel_http_requests_total" in metrics


def test_refuses_a_public_address_without_auth(tmp_path: Path) -> None:
    result = _keel("server", "--host", "0.0.0.0", "--port", str(free_port()), home=tmp_path)
    assert result.returncode == 1
    assert "without authentication" in result.stderr


def test_refuses_auth_without_an_admin(tmp_path: Path) -> None:
    result = _keel("server", "--auth", "--port", str(free_port()), home=tmp_path)
    assert result.returncode == 1
    assert "admin account" in result.stderr
    assert "keel users create" in result.stderr


def test_auth_and_insecure_contradict(tmp_path: Path) -> None:
    result = _keel("server", "--auth", "--insecure-no-auth", home=tmp_path)
    assert result.returncode == 1
    assert "contradict" in result.stderr


def test_workers_are_separate_processes(server_process: tuple[str, Path]) -> None:
    url, _ = server_process
    # New connections are spread over the worker processes; /api/v1/server names its pid.
    pids = set()
    for _ in range(200):
        response = httpx.get(f"{url}/api/v1/server", headers={"Connection": "close"})
        pids.add(response.json()["pid"])
        if len(pids) > 1:
            break
    assert len(pids) == 2
