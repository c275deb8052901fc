"""Errors as responses: ``{"error": {"code", "message", "details"}}`` with the error's HTTP
status, whatever went wrong (a KeelError, a request that does not validate, an unknown route,
or a bug). A bug answers 500 with a request id and never a traceback; the traceback goes to the
server log under the same id.

API families with their own error shape (MLflow's ``{"error_code", "message"}``) register a
formatter for their path prefix with :func:`register_error_format`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from keel.errors import KeelError, Unauthenticated

log = logging.getLogger("keel.api")

ErrorFormatter = Callable[[KeelError, int], tuple[int, dict[str, Any]]]
_FORMATS: list[tuple[str, ErrorFormatter]] = []

_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    416: "RANGE_NOT_SATISFIABLE",
    429: "TOO_MANY_REQUESTS",
}


def register_error_format(prefixes: Sequence[str], formatter: ErrorFormatter) -> None:
    for prefix in prefixes:
        if all(p != prefix for p, _ in _FORMATS):
            _FORMATS.append((prefix, formatter))


class HttpError(KeelError):
    """An error that carries its own status (unknown route, wrong method, bad range)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code  # type: ignore[misc]


def error_response(request: Request, error: KeelError, status: int | None = None) -> Response:
    status = status or getattr(error, "status", None) or error.http_status
    body: dict[str, Any] = {"error": error.to_dict()}
    path = request.url.path
    for prefix, formatter in _FORMATS:
        if path.startswith(prefix):
            status, body = formatter(error, status)
            break
    headers = {}
    if isinstance(error, Unauthenticated) or status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="keel", charset="UTF-8"'
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    async def keel_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KeelError)
        return error_response(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [_describe(e) for e in exc.errors()][:20]
        error = HttpError(400, "INVALID_ARGUMENT", "invalid request: " + "; ".join(problems),
                          problems=problems)
        return error_response(request, error)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "INTERNAL_ERROR")
        message = str(exc.detail) if exc.detail else code.lower().replace("_", " ")
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(request, HttpError(exc.status_code, code, message))

    async def bug(request: Request, exc: Exception) -> Response:
        request_id = uuid.uuid4().hex
        log.error("internal error %s on %s %s", request_id, request.method, request.url.path,
                  exc_info=exc)
        error = HttpError(500, "INTERNAL_ERROR",
                          f"internal server error (request id {request_id})",
                          request_id=request_id)
        return error_response(request, error)

    app.add_exception_handler(KeelError, keel_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, bug)


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where or 'body'}: {error.get('msg', 'invalid')}"
