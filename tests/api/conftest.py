"""A live keel server with authentication on, and accounts to call it with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from keel.api import ServerConfig, create_app
from keel.api._serve import serve_in_thread
from keel.app import Keel
from keel.auth import AccountKind
from keel.config import load_settings

PASSWORD = "correct horse battery staple"


@dataclass
class AuthServer:
    url: str
    keel: Keel
    tokens: dict[str, str]

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def make_experiment(self, owner: str, name: str) -> str:
        with self.client(owner) as http:
            response = http.post("/api/v1/experiments", json={"name": name})
            assert response.status_code == 201, response.text
            return str(response.json()["experiment_id"])


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[AuthServer]:
    settings = load_settings({}, home=str(tmp_path / "server"), capture_packages=False)
    with Keel(settings) as keel:
        auth = keel.auth
        auth.create_account("root", password=PASSWORD, admin=True, actor="setup")
        auth.create_account("alice", password=PASSWORD, actor="setup")
        auth.create_account("bob", password=PASSWORD, actor="setup")
        auth.create_account("ci", kind=AccountKind.SERVICE, actor="setup")
        tokens = {name: auth.create_token(name, name="tests", actor="setup")[1]
                  for name in ("root", "alice", "bob", "ci")}
        app = create_app(keel, ServerConfig(auth=True))
        with serve_in_thread(app) as url:
            yield AuthServer(url, keel, tokens)
