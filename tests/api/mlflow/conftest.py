"""A live keel server and the real ``mlflow`` client (in its own venv, ``.peers/mlflow``, which
``make test`` builds) to talk to it.

Client scripts live in ``clients/``; each runs as a subprocess with ``MLFLOW_TRACKING_URI`` set
to the server, telemetry off, retries off, and every proxy pointing at a closed loopback port,
so nothing can leave the machine. A script prints one ``RESULT <json>`` line, which the tests
assert on, then check through the server's own ``Keel`` object that what MLflow logged is in
keel's tables.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.api import create_app
from keel.api._serve import serve_in_thread
from keel.app import Keel
from keel.config import load_settings
from keel.testing.plugin import _unavailable

ROOT = Path(__file__).resolve().parents[3]
PEER = ROOT / ".peers" / "mlflow" / "bin" / "python"
CLIENTS = Path(__file__).with_name("clients")


@pytest.fixture(scope="session")
def mlflow_python() -> Path:
    if not PEER.exists():
        _unavailable(f"the mlflow client venv is missing ({PEER}); build it with "
                     "`make mlflow-peer` (`make test` does)")
    return PEER


@dataclass
class MlflowServer:
    url: str
    keel: Keel
    home: Path
    python: Path
    work: Path

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def run(self, script: str, **env: str) -> dict[str, Any]:
        """Run ``clients/<script>.py`` with the mlflow client; its RESULT line, decoded."""
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.work),
            "TMPDIR": str(self.work),
            "MLFLOW_TRACKING_URI": self.url,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            "GIT_PYTHON_REFRESH": "quiet",
            "PYTHONWARNINGS": "ignore",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            **env,
        }
        done = subprocess.run(
            [str(self.python), str(CLIENTS / f"{script}.py")], capture_output=True, text=True,
            env=environment, cwd=self.work, timeout=240, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            pytest.fail(f"client script {script} failed ({done.returncode}):\n"
                        f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
        result: dict[str, Any] = json.loads(lines[-1][len("RESULT "):])
        return result


@pytest.fixture(scope="module")
def mlflow_server(mlflow_python: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    home = tmp_path_factory.mktemp("keel-mlflow")
    work = tmp_path_factory.mktemp("mlflow-client")
    settings = load_settings({}, home=str(home / ".keel"), capture_packages=False)
    with Keel(settings) as keel, serve_in_thread(create_app(keel)) as url:
        yield MlflowServer(url, keel, home / ".keel", mlflow_python, work)
