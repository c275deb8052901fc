"""MLflow's error shape for the MLflow-compatible routes: ``{"error_code", "message"}`` with the
HTTP status MLflow pairs with that code.

keel's errors map onto MLflow's codes (NotFound -> RESOURCE_DOES_NOT_EXIST 404, AlreadyExists ->
RESOURCE_ALREADY_EXISTS 400, bad input -> INVALID_PARAMETER_VALUE 400, ...). MLflow clients retry
408, 429 and 5xx answers, so bad input is never a 5xx; a feature keel's server does not offer is
BAD_REQUEST (400) with a message saying so (for multipart uploads, the message MLflow clients
recognise and fall back from).
"""

from __future__ import annotations

from typing import Any

from keel.api._errors import HttpError, register_error_format
from keel.errors import (
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    InvalidArgument,
    KeelError,
    ModelIntegrityError,
    NotApproved,
    NotFound,
    ParamConflict,
    PermissionDenied,
    RequestTooLarge,
    RunNotActive,
    Unauthenticated,
)

PREFIXES = ("/api/2.0/mlflow", "/api/3.0/mlflow")
"""Also covers ``/api/2.0/mlflow-artifacts``."""

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
UNSUPPORTED = "BAD_REQUEST"
"""What keel answers for an MLflow feature it does not offer (400: MLflow clients neither
retry it nor mistake it for a server fault)."""

STATUS = {
    "INTERNAL_ERROR": 500, "DATA_LOSS": 500,
    "TEMPORARILY_UNAVAILABLE": 503, "RESOURCE_CONFLICT": 409, "ENDPOINT_NOT_FOUND": 404,
    RESOURCE_DOES_NOT_EXIST: 404, "PERMISSION_DENIED": 403, "UNAUTHENTICATED": 401,
    "BAD_REQUEST": 400, "RESOURCE_ALREADY_EXISTS": 400, INVALID_PARAMETER_VALUE: 400,
}
"""MLflow's HTTP status for each code keel answers with."""

_HTTP_STATUS_CODES = {400: INVALID_PARAMETER_VALUE, 401: "UNAUTHENTICATED",
                      403: "PERMISSION_DENIED", 404: "ENDPOINT_NOT_FOUND", 500: "INTERNAL_ERROR"}


RESPONSES: dict[int | str, dict[str, Any]] = {"4XX": {
    "description": "MLflow's error shape: error_code (RESOURCE_DOES_NOT_EXIST, "
                   "INVALID_PARAMETER_VALUE, ...) and message",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["error_code", "message"],
        "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    }}},
}}
"""``responses=`` of every MLflow router."""


class MlflowError(KeelError):
    """An error in MLflow's own terms (an MLflow code keel has no class for)."""

    def __init__(self, error_code: str, message: str, **details: Any) -> None:
        super().__init__(message, details=details)
        self.error_code = error_code


def invalid(message: str, **details: Any) -> InvalidArgument:
    return InvalidArgument(message, details=details)


def not_implemented(message: str) -> MlflowError:
    return MlflowError(UNSUPPORTED, message)


def missing(name: str) -> InvalidArgument:
    return InvalidArgument(
        f"Missing value for required parameter '{name}'. See the API docs for more information "
        "about request parameters.", details={"field": name})


def mlflow_code(error: KeelError, status: int) -> tuple[str, int]:
    """The MLflow error code and HTTP status for ``error`` (answered with ``status``)."""
    if isinstance(error, MlflowError):
        return error.error_code, STATUS.get(error.error_code, 400)
    if isinstance(error, HttpError):
        if status in _HTTP_STATUS_CODES:
            return _HTTP_STATUS_CODES[status], status
        return ("BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"), status
    if isinstance(error, NotFound):
        return RESOURCE_DOES_NOT_EXIST, 404
    if isinstance(error, AlreadyExists):
        return "RESOURCE_ALREADY_EXISTS", 400
    if isinstance(error, NotApproved | PermissionDenied):
        return "PERMISSION_DENIED", 403
    if isinstance(error, ParamConflict | RunNotActive | InvalidArgument):
        return INVALID_PARAMETER_VALUE, 400
    if isinstance(error, Conflict):
        return "RESOURCE_CONFLICT", 409
    if isinstance(error, Unauthenticated):
        return "UNAUTHENTICATED", 401
    if isinstance(error, RequestTooLarge):
        return "BAD_REQUEST", 413
    if isinstance(error, BackendUnavailable):
        return "TEMPORARILY_UNAVAILABLE", 503
    if isinstance(error, ModelIntegrityError):
        return "DATA_LOSS", 500
    return "INTERNAL_ERROR", 500


def format_error(error: KeelError, status: int) -> tuple[int, dict[str, Any]]:
    code, http_status = mlflow_code(error, status)
    message = error.message
    if isinstance(error, NotApproved):
        message = (f"{message}. keel's governance protects this alias: approve the version "
                   "for its target (keel models approve) before moving the alias")
    return http_status, {"error_code": code, "message": message}


def install() -> None:
    register_error_format(PREFIXES, format_error)
