from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keel import Keel
from keel.cli import app
from keel.config import load_settings
from keel.registry.webhooks import verify_signature


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    server.shutdown()
    server.server_close()


def test_deliver_sends_each_registry_event_once_signed(
    tmp_path: Path, receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = receiver
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"url": url, "secret": "s3cret"}]))
    db, art = f"sqlite:///{tmp_path / 'keel.db'}", str(tmp_path / "artifacts")
    with Keel(load_settings({}, database_url=db, artifacts_url=art)) as client:
        client.registry.create_registered_model("churn", actor="alice")
        client.registry.set_registered_model_tags("churn", {"team": "risk"}, actor="alice")
    monkeypatch.setenv("KEEL_WEBHOOK_TARGETS", str(targets))
    monkeypatch.setenv("KEEL_WEBHOOK_ALLOWLIST", url)
    opts = ["--database-url", db, "--artifacts-url", art]
    cursor = tmp_path / "cursor"

    first = CliRunner().invoke(app, [*opts, "webhooks", "deliver", "--cursor-file", str(cursor)])
    assert first.exit_code == 0, first.stderr
    assert "delivered 2, failed 0" in first.stdout
    assert [json.loads(b)["type"] for _, b in received] == [
        "registered_model.created", "registered_model.tags_set"
    ]
    for headers, body in received:
        assert verify_signature("s3cret", body, headers["X-Keel-Signature"])

    again = CliRunner().invoke(app, [*opts, "webhooks", "deliver", "--cursor-file", str(cursor)])
    assert again.exit_code == 0 and "delivered 0" in again.stdout
    assert len(received) == 2
