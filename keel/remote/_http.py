"""One HTTP connection pool to a keel server: JSON in and out, credentials on every request,
and errors rebuilt into the KeelError classes the server raised."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from keel.core.wire import to_wire
from keel.errors import BackendUnavailable, KeelError, error_from_code

API = "/api/v1"


class HttpTransport:
    """Requests to one server. Thread-safe (httpx pools connections across threads)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        actor: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": "keel-client", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif username is not None and password is not None:
            raw = f"{username}:{password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        if actor:
            headers["X-Keel-Actor"] = actor
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        raw_json: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> Any:
        """The decoded JSON answer (None for an empty one). Statuses in ``allow`` return None
        instead of raising."""
        content: bytes | None = raw_json
        headers = None
        if json is not None:
            content = orjson.dumps(to_wire(json))
        if content is not None:
            headers = {"Content-Type": "application/json"}
        response = self._send(method, path, content=content, params=params, headers=headers)
        if response.status_code in allow:
            return None
        raise_for_error(response)
        if not response.content:
            return None
        return orjson.loads(response.content)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise BackendUnavailable(
                f"keel server at {self.base_url} is unreachable: {error}",
                details={"url": self.base_url},
            ) from None

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A raw request (artifact bytes); errors raised as KeelErrors."""
        response = self._send(method, path, **kwargs)
        raise_for_error(response)
        return response

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        try:
            with self._client.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for_error(response)
                yield response
        except httpx.TransportError as error:
            raise BackendUnavailable(
                f"keel server at {self.base_url} is unreachable: {error}",
                details={"url": self.base_url},
            ) from None

    def close(self) -> None:
        self._client.close()


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = orjson.loads(response.content)
        error = body["error"]
        raise error_from_code(str(error["code"]), str(error["message"]),
                              dict(error.get("details") or {}))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        pass
    text = response.text[:300]
    raise KeelError(
        f"keel server answered {response.status_code} {response.reason_phrase}: {text}",
        details={"status": response.status_code},
    )
