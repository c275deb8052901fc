"""What the hardening tests of keel's routes and of the MLflow routes share: a request sent byte
for byte (httpx normalizes dot segments, which would hide the attack), the path spellings that
escaped an artifact store in MLflow's history, and the check that nothing escaped."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

TRAVERSALS = [
    "../../../escape.txt",
    "%2e%2e/%2e%2e/%2e%2e/escape.txt",
    "%252e%252e/%252e%252e/%252e%252e/escape.txt",
    "..%2f..%2f..%2fescape.txt",
    "..%5c..%5c..%5cescape.txt",
    "..\\..\\..\\escape.txt",
    "/etc/escape.txt",
    "//evil.example/escape.txt",
    "C:/escape.txt",
    "c:%5cescape.txt",
    "..;/..;/..;/escape.txt",
    "x;jsessionid=1/../../../escape.txt",
    "a%3F/../../../escape.txt",
    "a%23/../../../escape.txt",
    "file:/escape.txt",
    "http:///%23/../../escape.txt",
    "%c0%ae%c0%ae/escape.txt",
    "%E2%88%95..%E2%88%95..%E2%88%95escape.txt",
]


def send_raw(url: str, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of a request whose path goes on the wire exactly as given."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def escaped(root: Path) -> list[Path]:
    """Files named escape.txt anywhere under ``root`` but inside a run's artifacts."""
    return [p for p in root.rglob("escape.txt") if "artifacts" not in p.parts]
