"""Registry webhooks against real HTTP receivers on loopback and real registry events."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from keel.app import Keel
from keel.errors import InvalidArgument
from keel.registry.webhooks import (
    WebhookDispatcher,
    WebhookTarget,
    address_refusal,
    sign,
    verify_signature,
)

SECRET = "s3cret-key"
LEAK = "TOP-SECRET-RESPONSE-CONTENT"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A loopback HTTP server that records POSTs and answers from a script of
    ``(status, extra headers)``; once the script runs out it answers 200."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.origin}/hook"


def _start_receiver() -> Receiver:
    lock = threading.Lock()
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                status, extra = receiver.script.pop(0) if receiver.script else (200, {})
            content = f"{LEAK} {SECRET}".encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return receiver


def _closed_origin() -> str:
    """A loopback origin nothing listens on (the port was just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = [_start_receiver(), _start_receiver()]
    try:
        yield started
    finally:
        for r in started:
            r.server.shutdown()
            r.server.server_close()


@pytest.fixture
def receiver(receivers: list[Receiver]) -> Receiver:
    return receivers[0]


def _dispatcher(
    client: Keel, receiver: Receiver, *, sleeps: list[float] | None = None, **options: Any
) -> WebhookDispatcher:
    target = options.pop("target", WebhookTarget(receiver.url, SECRET))
    recorded = sleeps if sleeps is not None else []
    return WebhookDispatcher(
        client.audit, [target], allowlist=[receiver.origin], sleep=recorded.append,
        backoff_base=0.01, **options,
    )


def test_event_is_posted_signed_with_the_raw_body(keel_client: Keel, receiver: Receiver) -> None:
    keel_client.registry.create_registered_model("m", actor="alice")
    report = _dispatcher(keel_client, receiver).deliver_pending(0)

    assert [r.delivered for r in report.results] == [True]
    (event,) = keel_client.audit.list_events(0)
    assert report.cursor == event.seq
    (req,) = receiver.requests
    assert req.path == "/hook"
    body = json.loads(req.body)
    assert body == {"seq": event.seq, "type": "registered_model.created", "at": event.at,
                    "payload": json.loads(json.dumps(dict(event.payload)))}
    assert req.headers["X-Keel-Event"] == "registered_model.created"
    assert req.headers["X-Keel-Delivery"] == report.results[0].delivery_id
    assert int(req.headers["X-Keel-Timestamp"]) > 0
    assert req.headers["X-Keel-Signature"] == sign(SECRET, req.body)
    assert verify_signature(SECRET, req.body, req.headers["X-Keel-Signature"])
    assert not verify_signature("other", req.body, req.headers["X-Keel-Signature"])
    assert not verify_signature(SECRET, req.body + b" ", req.headers["X-Keel-Signature"])
    assert not verify_signature(SECRET, req.body, None)
    assert req.headers["Host"] == receiver.origin.removeprefix("http://")


def test_cursor_moves_on_and_nothing_is_sent_twice(keel_client: Keel, receiver: Receiver) -> None:
    keel_client.registry.create_registered_model("m", actor="alice")
    dispatcher = _dispatcher(keel_client, receiver)
    cursor = dispatcher.deliver_pending(0).cursor
    again = dispatcher.deliver_pending(cursor)
    assert again.cursor == cursor and again.results == ()
    keel_client.registry.create_registered_model("n", actor="alice")
    third = dispatcher.deliver_pending(cursor)
    assert third.cursor > cursor and len(third.delivered) == 1
    assert len(receiver.requests) == 2
    assert len({r.headers["X-Keel-Delivery"] for r in receiver.requests}) == 2


def test_target_gets_only_the_event_types_it_asked_for(
    keel_client: Keel, receiver: Receiver
) -> None:
    keel_client.registry.create_registered_model("m", actor="alice")
    keel_client.registry.set_registered_model_tags("m", {"team": "x"}, actor="alice")
    target = WebhookTarget(receiver.url, SECRET, event_types=["registered_model.tags_set"])
    report = _dispatcher(keel_client, receiver, target=target).deliver_pending(0)

    assert [r.event_type for r in report.results] == ["registered_model.tags_set"]
    assert [r.headers["X-Keel-Event"] for r in receiver.requests] == ["registered_model.tags_set"]
    assert report.cursor == keel_client.audit.list_events(0)[-1].seq


def test_redirect_is_not_followed_and_reported_failed(
    keel_client: Keel, receivers: list[Receiver]
) -> None:
    first, second = receivers
    first.script = [(302, {"Location": second.url})]
    keel_client.registry.create_registered_model("m", actor="alice")
    sleeps: list[float] = []
    report = _dispatcher(keel_client, first, sleeps=sleeps).deliver_pending(0)

    (result,) = report.failed
    assert result.status == 302 and result.attempts == 1 and "302" in (result.reason or "")
    assert len(first.requests) == 1
    assert second.requests == []
    assert sleeps == []


def test_server_errors_are_retried_with_growing_backoff(
    keel_client: Keel, receiver: Receiver
) -> None:
    receiver.script = [(500, {}), (503, {})]
    keel_client.registry.create_registered_model("m", actor="alice")
    sleeps: list[float] = []
    report = _dispatcher(keel_client, receiver, sleeps=sleeps).deliver_pending(0)

    (result,) = report.delivered
    assert result.attempts == 3 and result.status == 200
    assert len(sleeps) == 2 and 0 < sleeps[0] < sleeps[1]
    ids = {r.headers["X-Keel-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1


def test_429_is_retried_until_max_attempts(keel_client: Keel, receiver: Receiver) -> None:
    receiver.script = [(429, {})] * 5
    keel_client.registry.create_registered_model("m", actor="alice")
    sleeps: list[float] = []
    report = _dispatcher(keel_client, receiver, sleeps=sleeps, max_attempts=3).deliver_pending(0)

    (result,) = report.failed
    assert result.attempts == 3 and result.reason == "HTTP 429"
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]


def test_client_error_is_not_retried(keel_client: Keel, receiver: Receiver) -> None:
    receiver.script = [(400, {})]
    keel_client.registry.create_registered_model("m", actor="alice")
    sleeps: list[float] = []
    report = _dispatcher(keel_client, receiver, sleeps=sleeps).deliver_pending(0)

    (result,) = report.failed
    assert result.attempts == 1 and result.status == 400 and result.reason == "HTTP 400"
    assert len(receiver.requests) == 1 and sleeps == []


def test_response_body_never_reaches_report_or_logs(
    keel_client: Keel, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.script = [(500, {"X-Info": "x"})] * 2 + [(404, {})]
    keel_client.registry.create_registered_model("m", actor="alice")
    with caplog.at_level(logging.DEBUG):
        report = _dispatcher(keel_client, receiver).deliver_pending(0)

    assert len(report.failed) == 1
    assert "404" in caplog.text and "failed" in caplog.text
    for text in (repr(report), caplog.text, str(report.failed[0].reason)):
        assert LEAK not in text
        assert SECRET not in text


def test_network_error_is_retried_then_reported(keel_client: Keel, receiver: Receiver) -> None:
    keel_client.registry.create_registered_model("m", actor="alice")
    origin = _closed_origin()
    url = f"{origin}/hook"
    sleeps: list[float] = []
    dispatcher = WebhookDispatcher(
        keel_client.audit, [WebhookTarget(url, SECRET)], allowlist=[origin],
        sleep=sleeps.append, max_attempts=2, timeout=2.0,
    )
    (result,) = dispatcher.deliver_pending(0).failed
    assert result.attempts == 2 and result.status is None
    assert "ConnectError" in (result.reason or "")
    assert len(sleeps) == 1


def test_target_outside_the_allowlist_is_refused(keel_client: Keel, receiver: Receiver) -> None:
    with pytest.raises(InvalidArgument, match=r"hooks\.evil\.example"):
        WebhookDispatcher(
            keel_client.audit, [WebhookTarget("https://hooks.evil.example/x", SECRET)],
            allowlist=["https://hooks.example.com"],
        )
    with pytest.raises(InvalidArgument, match="allowlist"):
        WebhookDispatcher(
            keel_client.audit, [WebhookTarget("https://hooks.example.com/other", SECRET)],
            allowlist=["https://hooks.example.com/keel"],
        )
    with pytest.raises(InvalidArgument, match="allowlist"):
        WebhookDispatcher(
            keel_client.audit, [WebhookTarget("https://hooks.example.com:8443/keel", SECRET)],
            allowlist=["https://hooks.example.com/keel"],
        )
    with pytest.raises(InvalidArgument, match="https"):
        WebhookDispatcher(
            keel_client.audit, [WebhookTarget("http://hooks.example.com/keel", SECRET)],
            allowlist=["http://hooks.example.com"],
        )
    with pytest.raises(InvalidArgument, match="dot segments"):
        WebhookDispatcher(
            keel_client.audit, [WebhookTarget("https://hooks.example.com/keel/../a", SECRET)],
            allowlist=["https://hooks.example.com/keel/"],
        )
    ok = WebhookDispatcher(
        keel_client.audit, [WebhookTarget("https://hooks.example.com/keel/a", SECRET)],
        allowlist=["https://hooks.example.com/keel"],
    )
    assert "s3cret" not in repr(ok.targets)


def test_metadata_address_literal_is_refused_even_when_listed(keel_client: Keel) -> None:
    with pytest.raises(InvalidArgument, match="metadata"):
        WebhookDispatcher(
            keel_client.audit,
            [WebhookTarget("https://169.254.169.254/latest/meta-data", SECRET)],
            allowlist=["https://169.254.169.254"],
        )


def test_allowlisted_name_resolving_to_metadata_address_is_refused(
    keel_client: Keel, caplog: pytest.LogCaptureFixture
) -> None:
    """DNS rebinding: the allowlisted name now resolves to the metadata service."""
    keel_client.registry.create_registered_model("m", actor="alice")
    looked_up: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        looked_up.append((host, port))
        return ["169.254.169.254"]

    dispatcher = WebhookDispatcher(
        keel_client.audit, [WebhookTarget("https://hooks.example.com/keel", SECRET)],
        allowlist=["https://hooks.example.com"], resolver=resolver,
    )
    with caplog.at_level(logging.WARNING):
        (result,) = dispatcher.deliver_pending(0).failed
    assert result.attempts == 0 and "169.254.169.254" in (result.reason or "")
    assert looked_up == [("hooks.example.com", 443)]
    assert "refused" in caplog.text


def test_name_resolving_to_private_address_is_refused_but_a_literal_is_not() -> None:
    assert address_refusal("10.0.0.5", "hooks.example.com") is not None
    assert address_refusal("127.0.0.1", "hooks.example.com") is not None
    assert address_refusal("::ffff:169.254.169.254", "hooks.example.com") is not None
    assert address_refusal("fe80::1", "hooks.example.com") is not None
    assert address_refusal("169.254.169.254", "169.254.169.254") is not None
    assert address_refusal("10.0.0.5", "10.0.0.5") is None
    assert address_refusal("127.0.0.1", "localhost") is None
    assert address_refusal("::1", "localhost") is None
    assert address_refusal("93.184.216.34", "hooks.example.com") is None


def test_delivery_connects_to_the_checked_address(keel_client: Keel, receiver: Receiver) -> None:
    """``localhost`` is resolved once and the request goes to that address, Host kept."""
    keel_client.registry.create_registered_model("m", actor="alice")
    port = receiver.server.server_address[1]
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    dispatcher = WebhookDispatcher(
        keel_client.audit, [WebhookTarget(f"http://localhost:{port}/hook", SECRET)],
        allowlist=[f"http://localhost:{port}"], resolver=resolver, sleep=lambda s: None,
    )
    report = dispatcher.deliver_pending(0)
    assert len(report.delivered) == 1 and calls == ["localhost"]
    assert receiver.requests[0].headers["Host"] == f"localhost:{port}"


def test_https_delivery_is_pinned_with_host_header_and_sni(keel_client: Keel) -> None:
    """Over https the URL carries the checked IP while Host and SNI (hence the certificate
    check) keep the name; proxies from the environment are not used."""
    httpx = pytest.importorskip("httpx")
    keel_client.registry.create_registered_model("m", actor="alice")
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(request)
        return httpx.Response(204)

    dispatcher = WebhookDispatcher(
        keel_client.audit, [WebhookTarget("https://hooks.example.com/keel?k=v", SECRET)],
        allowlist=["https://hooks.example.com/keel"],
        resolver=lambda host, port: ["93.184.216.34"],
        transport=httpx.MockTransport(handler),
    )
    (result,) = dispatcher.deliver_pending(0).delivered
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34/keel?k=v"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert result.target == "https://hooks.example.com/keel"
    assert verify_signature(SECRET, request.content, request.headers["x-keel-signature"])


def test_registry_operation_never_fails_because_of_webhooks(keel_client: Keel) -> None:
    origin = _closed_origin()
    dispatcher = WebhookDispatcher(
        keel_client.audit, [WebhookTarget(f"{origin}/hook", SECRET)], allowlist=[origin],
        sleep=lambda s: None, max_attempts=1,
    )
    model = keel_client.registry.create_registered_model("m", actor="alice")
    report = dispatcher.deliver_pending(0)

    assert len(report.failed) == 1
    assert keel_client.registry.get_registered_model("m").model_id == model.model_id
    assert report.cursor == keel_client.audit.list_events(0)[-1].seq
