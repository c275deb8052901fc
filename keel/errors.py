"""Every error keel raises on purpose.

One root, with the HTTP status and a stable machine-readable code carried as data, so the HTTP
layer can turn any of them into a response and a client can rebuild the same class from ``code``
(see :func:`error_from_code`)::

    KeelError (INTERNAL_ERROR, 500)
    ├── InvalidArgument (INVALID_ARGUMENT, 400)
    │   ├── InvalidFilter (INVALID_FILTER, 400)        a search filter that does not parse
    │   └── InvalidArtifactPath (INVALID_ARTIFACT_PATH, 400)
    ├── NotFound (NOT_FOUND, 404)
    │   ├── ExperimentNotFound (EXPERIMENT_NOT_FOUND, 404)
    │   ├── RunNotFound (RUN_NOT_FOUND, 404)
    │   ├── ArtifactNotFound (ARTIFACT_NOT_FOUND, 404)
    │   ├── DatasetNotFound (DATASET_NOT_FOUND, 404)
    │   ├── RegisteredModelNotFound (REGISTERED_MODEL_NOT_FOUND, 404)
    │   ├── ModelVersionNotFound (MODEL_VERSION_NOT_FOUND, 404)
    │   └── AliasNotFound (ALIAS_NOT_FOUND, 404)
    ├── Unauthenticated (UNAUTHENTICATED, 401)         no, expired or wrong credentials
    ├── PermissionDenied (PERMISSION_DENIED, 403)      e.g. approving one's own request
    │   └── UntrustedModel (UNTRUSTED_MODEL, 403)      loading would run code not trusted yet
    ├── ModelIntegrityError (MODEL_INTEGRITY_ERROR, 500) a model file changed, missing or extra
    ├── AlreadyExists (ALREADY_EXISTS, 409)
    ├── Conflict (CONFLICT, 409)
    │   ├── ParamConflict (PARAM_CONFLICT, 409)          a param logged again with another value
    │   ├── RunNotActive (RUN_NOT_ACTIVE, 409)           writing to a deleted run
    │   └── NotApproved (NOT_APPROVED, 409)              a version not approved for a target
    ├── RequestTooLarge (REQUEST_TOO_LARGE, 413)       a body over the server's limit
    ├── BackendUnavailable (BACKEND_UNAVAILABLE, 503)
    └── MissingDependency (MISSING_DEPENDENCY, 500)      names the extra to install

This module imports only the standard library.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AliasNotFound",
    "AlreadyExists",
    "ArtifactNotFound",
    "BackendUnavailable",
    "Conflict",
    "DatasetNotFound",
    "ExperimentNotFound",
    "InvalidArgument",
    "InvalidArtifactPath",
    "InvalidFilter",
    "KeelError",
    "MissingDependency",
    "ModelIntegrityError",
    "ModelVersionNotFound",
    "NotApproved",
    "NotFound",
    "ParamConflict",
    "PermissionDenied",
    "RegisteredModelNotFound",
    "RequestTooLarge",
    "RunNotActive",
    "RunNotFound",
    "Unauthenticated",
    "UntrustedModel",
    "error_from_code",
]


class KeelError(Exception):
    """Root of every error keel raises on purpose."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidArgument(KeelError):
    code = "INVALID_ARGUMENT"
    http_status = 400


class InvalidFilter(InvalidArgument):
    """A search filter that does not parse; ``details`` has ``position`` and ``token``."""

    code = "INVALID_FILTER"


class InvalidArtifactPath(InvalidArgument):
    code = "INVALID_ARTIFACT_PATH"


class NotFound(KeelError):
    code = "NOT_FOUND"
    http_status = 404


class ExperimentNotFound(NotFound):
    code = "EXPERIMENT_NOT_FOUND"


class RunNotFound(NotFound):
    code = "RUN_NOT_FOUND"


class ArtifactNotFound(NotFound):
    code = "ARTIFACT_NOT_FOUND"


class DatasetNotFound(NotFound):
    code = "DATASET_NOT_FOUND"


class RegisteredModelNotFound(NotFound):
    code = "REGISTERED_MODEL_NOT_FOUND"


class ModelVersionNotFound(NotFound):
    code = "MODEL_VERSION_NOT_FOUND"


class AliasNotFound(NotFound):
    code = "ALIAS_NOT_FOUND"


class Unauthenticated(KeelError):
    """The request carries no credentials, or credentials that are wrong, expired or revoked."""

    code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDenied(KeelError):
    """The actor may not do this (separation of duties: nobody approves their own request)."""

    code = "PERMISSION_DENIED"
    http_status = 403


class UntrustedModel(PermissionDenied):
    """Loading the model needs trust the caller has not given: a pickled model without
    ``trust=True``, or a skops file naming types outside keel's allowlist and ``trusted_types``
    (``details["untrusted_types"]`` lists them)."""

    code = "UNTRUSTED_MODEL"


class ModelIntegrityError(KeelError):
    """A saved model's files do not match the digests in its ``MODEL.yaml``; ``details`` has
    ``path`` and ``problem`` (``changed``, ``missing``, ``unexpected`` or ``symlink``)."""

    code = "MODEL_INTEGRITY_ERROR"
    http_status = 500


class AlreadyExists(KeelError):
    code = "ALREADY_EXISTS"
    http_status = 409


class Conflict(KeelError):
    code = "CONFLICT"
    http_status = 409


class ParamConflict(Conflict):
    code = "PARAM_CONFLICT"


class RunNotActive(Conflict):
    code = "RUN_NOT_ACTIVE"


class NotApproved(Conflict):
    """A model version is not approved for the target a protected alias requires; ``details``
    has ``name``, ``version``, ``target``, ``state`` and, when a service evaluated the policy,
    ``unmet_gates``."""

    code = "NOT_APPROVED"


class RequestTooLarge(KeelError):
    code = "REQUEST_TOO_LARGE"
    http_status = 413


class BackendUnavailable(KeelError):
    code = "BACKEND_UNAVAILABLE"
    http_status = 503


class MissingDependency(KeelError):
    """An optional dependency is not installed; the message says which extra brings it."""

    code = "MISSING_DEPENDENCY"
    http_status = 500

    def __init__(self, package: str, *, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install it with: pip install 'keelml[{extra}]'",
            details={"package": package, "extra": extra},
        )
        self.package = package
        self.extra = extra


def _all_subclasses(cls: type[KeelError]) -> list[type[KeelError]]:
    out: list[type[KeelError]] = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


def error_from_code(code: str, message: str, details: dict[str, Any] | None = None) -> KeelError:
    """Rebuild the error class named by ``code`` (unknown codes become a plain KeelError)."""
    # Only the classes defined here: other modules' subclasses (the HTTP layer's own) are not
    # part of the wire contract.
    table = {c.code: c for c in _all_subclasses(KeelError)
             if c is not MissingDependency and c.__module__ == __name__}
    cls = table.get(code, KeelError)
    return cls(message, details=details)
