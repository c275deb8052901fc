"""Request body limits, enforced while the body arrives: a declared ``Content-Length`` over the
limit is answered 413 before a byte is read, and a chunked body is cut off at the limit. Artifact
upload routes stream to disk and carry their own (larger) limit."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.errors import RequestTooLarge


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int, streaming_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.streaming_prefixes = streaming_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.streaming_prefixes):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _too_large(send, self.limit)
            return
        received = 0
        limit = self.limit

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(f"request body exceeds the {limit}-byte limit")
            return message

        await self.app(scope, counting, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = orjson.dumps({"error": {"code": "REQUEST_TOO_LARGE",
                                   "message": f"request body exceeds the {limit}-byte limit",
                                   "details": {"limit": limit}}})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
