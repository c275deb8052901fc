"""The flavor port: how one framework's models are saved, loaded and asked for predictions.

A flavor is any object with the members of :class:`Flavor`; :class:`BaseFlavor` supplies the
optional ones (no ``predict_proba``, options checked against ``options``). keel's built-in
flavors are registered through the ``keel.model_flavors`` entry-point group, the same way a
plugin registers its own (see :mod:`keel.models.flavors.registry`).

Flavors import their framework inside their methods, so listing or matching flavors never
imports torch or scikit-learn; a framework that is missing raises
:class:`~keel.errors.MissingDependency` naming the extra that installs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from keel.errors import InvalidArgument, MissingDependency

if TYPE_CHECKING:
    from keel.models.signature import Signature
    from keel.models.spec import ModelSpec

__all__ = [
    "BaseFlavor",
    "Flavor",
    "FlavorSaved",
    "TrustPolicy",
    "class_reference",
    "mro_names",
    "require",
    "resolve_class",
]


@dataclass(frozen=True)
class TrustPolicy:
    """What the caller of ``load_model`` trusts: everything (``trust=True``, needed to unpickle)
    or, for skops files, the type names listed in ``trusted_types``."""

    trust: bool = False
    trusted_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FlavorSaved:
    """What a flavor reports after writing a model's files into the directory.

    ``config`` goes into ``MODEL.yaml`` as ``flavor_config`` (YAML-able values only);
    ``signature`` is one the model declares itself (an ONNX graph does), used when the caller
    gives none.
    """

    format: str
    framework: str
    framework_version: str
    requirements: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    pickle: bool = False
    signature: Signature | None = None


@runtime_checkable
class Flavor(Protocol):
    """One framework's way to save, load and predict."""

    @property
    def name(self) -> str:
        """The flavor's name, as ``MODEL.yaml`` records it."""
        ...

    def matches(self, model: object) -> bool:
        """True when this flavor can save ``model`` (must not import the framework)."""
        ...

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        """Write the model's files into ``directory`` (which exists and is empty)."""
        ...

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> Any:
        """The loaded model, from a directory whose digests were already verified."""
        ...

    def predict(self, loaded: Any, data: Any) -> Any:
        """Predictions for prepared input (a DataFrame, an array or a dict of arrays)."""
        ...

    def has_predict_proba(self, loaded: Any) -> bool: ...

    def predict_proba(self, loaded: Any, data: Any) -> Any: ...


class BaseFlavor:
    """Defaults for the optional parts of :class:`Flavor`; subclasses set ``name``,
    ``options`` (the keyword options ``save`` accepts) and the methods."""

    name: ClassVar[str] = ""
    options: ClassVar[frozenset[str]] = frozenset()

    def has_predict_proba(self, loaded: Any) -> bool:
        return False

    def predict_proba(self, loaded: Any, data: Any) -> Any:
        raise InvalidArgument(
            f"this {self.name} model has no predict_proba", details={"flavor": self.name}
        )

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - self.options)
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise InvalidArgument(
                f"unknown option{'s' if len(unknown) > 1 else ''} for the {self.name} flavor: "
                f"{', '.join(unknown)}; it takes: {known}",
                details={"flavor": self.name, "unknown": unknown},
            )


def require(module: str, *, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise MissingDependency naming the pip ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(package or module.partition(".")[0], extra=extra) from None


def mro_names(model: object) -> set[str]:
    """``module.QualName`` of every class ``model`` is an instance of (no imports needed)."""
    return {f"{c.__module__}.{c.__qualname__}" for c in type(model).__mro__}


def module_version(module: ModuleType) -> str:
    return str(getattr(module, "__version__", "unknown"))


def class_reference(cls: type, *, what: str, alternative: str) -> str:
    """``module:QualName`` for a class that can be imported again by that name."""
    module, qualname = cls.__module__, cls.__qualname__
    if module == "__main__" or "<locals>" in qualname:
        where = "in __main__" if module == "__main__" else "inside a function"
        raise InvalidArgument(
            f"{what} {qualname} is defined {where}, so it cannot be imported by name when the "
            f"model is loaded; move it into a module, or {alternative}",
            details={"class": f"{module}:{qualname}"},
        )
    return f"{module}:{qualname}"


def resolve_class(reference: str, base: type, *, what: str) -> type:
    """Import the class named ``module:QualName`` and check it is a subclass of ``base`` (so a
    manifest cannot name an arbitrary callable)."""
    module_name, _, qualname = reference.partition(":")
    if not module_name or not qualname:
        raise InvalidArgument(
            f"{what} reference {reference!r} is not of the form 'module:QualName'",
            details={"reference": reference},
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidArgument(
            f"cannot import {what} {reference!r}: {exc}; install the code that defines it",
            details={"reference": reference},
        ) from None
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise InvalidArgument(
            f"{what} reference {reference!r} is not a subclass of {base.__qualname__}",
            details={"reference": reference},
        )
    return obj
