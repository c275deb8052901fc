"""Model URIs: where a saved model lives.

- ``runs:/<run_id>/<path>`` — the model logged under ``<path>`` in a run's artifacts;
- ``models:/<name>/<version>`` — a registered model's version (a positive integer);
- ``models:/<name>@<alias>`` — the version an alias of a registered model points to.

:func:`parse_model_uri` turns a string into a frozen dataclass, or raises
:class:`~keel.errors.InvalidArgument` saying what is wrong with it. Resolving ``models:/`` URIs
needs the registry, which :func:`resolve_model_uri` reaches through a callable it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keel.artifacts.paths import safe_key
from keel.core import validate_name
from keel.errors import ArtifactNotFound, InvalidArgument

if TYPE_CHECKING:
    from keel.tracking.run_artifacts import RunArtifactService

__all__ = [
    "ModelURI",
    "RegistryModelURI",
    "RegistryResolver",
    "RunModelURI",
    "parse_model_uri",
    "resolve_model_uri",
]

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]{0,254}$")
_VERSION = re.compile(r"^[1-9][0-9]{0,17}$")


@dataclass(frozen=True)
class RunModelURI:
    """``runs:/<run_id>/<path>``."""

    run_id: str
    path: str

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.path}"


@dataclass(frozen=True)
class RegistryModelURI:
    """``models:/<name>/<version>`` (``version`` set) or ``models:/<name>@<alias>``."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __post_init__(self) -> None:
        if (self.version is None) == (self.alias is None):
            raise InvalidArgument("a models:/ URI names either a version or an alias")

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        return f"models:/{self.name}/{self.version}"


ModelURI = RunModelURI | RegistryModelURI
RegistryResolver = Callable[[RegistryModelURI], tuple[str, str]]
"""Looks up a registered version: returns the ``(run_id, artifact_path)`` of its model."""


def _bad(uri: str, reason: str) -> InvalidArgument:
    shown = repr(uri) if len(uri) <= 200 else repr(uri[:200]) + "..."
    return InvalidArgument(
        f"invalid model URI {shown}: {reason}. Model URIs look like runs:/<run_id>/<path>, "
        "models:/<name>/<version> or models:/<name>@<alias>",
        details={"uri": uri, "reason": reason},
    )


def parse_model_uri(uri: str) -> ModelURI:
    """The parsed form of ``uri``; InvalidArgument says what is wrong with a malformed one."""
    if not isinstance(uri, str):
        raise InvalidArgument(f"a model URI is a string, not {type(uri).__name__}")
    if uri.startswith("runs:/"):
        return _parse_runs(uri, uri[len("runs:/"):])
    if uri.startswith("models:/"):
        return _parse_models(uri, uri[len("models:/"):])
    scheme = uri.partition(":")[0] if ":" in uri else ""
    reason = f"unknown scheme {scheme!r}" if scheme else "no scheme"
    raise _bad(uri, reason)


def _parse_runs(uri: str, rest: str) -> RunModelURI:
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise _bad(uri, "the run id is missing")
    if not _RUN_ID.match(run_id):
        raise _bad(uri, f"{run_id!r} is not a run id")
    if not path.strip("/"):
        raise _bad(uri, "the artifact path of the model is missing")
    try:
        key = safe_key(path)
    except InvalidArgument as exc:
        raise _bad(uri, exc.details.get("reason", str(exc))) from None
    return RunModelURI(run_id=run_id, path=key)


def _parse_models(uri: str, rest: str) -> RegistryModelURI:
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if not alias:
            raise _bad(uri, "the alias after '@' is missing")
        if not _ALIAS.match(alias):
            raise _bad(uri, f"{alias!r} is not an alias (letters, digits, '_', '-', '.')")
        return RegistryModelURI(name=_model_name(uri, name), alias=alias)
    name, slash, version = rest.rpartition("/")
    if not slash:
        raise _bad(uri, "a version ('/<version>') or an alias ('@<alias>') is missing")
    if not version:
        raise _bad(uri, "the version after '/' is missing")
    if not _VERSION.match(version):
        raise _bad(uri, f"version {version!r} is not a positive integer")
    return RegistryModelURI(name=_model_name(uri, name), version=int(version))


def _model_name(uri: str, name: str) -> str:
    if not name:
        raise _bad(uri, "the model name is missing")
    if "/" in name or "@" in name:
        raise _bad(uri, f"model name {name!r} contains '/' or '@'")
    if name != name.strip():
        raise _bad(uri, f"model name {name!r} has leading or trailing spaces")
    try:
        return validate_name(name, "model name")
    except InvalidArgument as exc:
        raise _bad(uri, exc.message) from None


def resolve_model_uri(
    uri: str | ModelURI,
    *,
    run_artifacts: RunArtifactService,
    registry_resolver: RegistryResolver | None = None,
) -> tuple[str, str]:
    """``(run_id, artifact_path)`` of the model ``uri`` names, checked to hold a MODEL.yaml.

    ``models:/`` URIs go through ``registry_resolver``; without one they are refused.
    """
    parsed = parse_model_uri(uri) if isinstance(uri, str) else uri
    if isinstance(parsed, RegistryModelURI):
        if registry_resolver is None:
            raise InvalidArgument(
                f"{parsed} names a registered model, but no model registry is available here",
                details={"uri": str(parsed)},
            )
        run_id, path = registry_resolver(parsed)
        path = safe_key(path)
    else:
        run_id, path = parsed.run_id, parsed.path
    names = {a.path.rpartition("/")[2] for a in run_artifacts.list_artifacts(run_id, path)}
    if "MODEL.yaml" not in names:
        raise ArtifactNotFound(
            f"{parsed} does not point at a saved model: run {run_id} has no "
            f"{path}/MODEL.yaml",
            details={"uri": str(parsed), "run_id": run_id, "path": path},
        )
    return run_id, path

