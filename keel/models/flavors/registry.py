"""Which flavors exist: keel's own and any a plugin registers, found by name or by model.

A plugin adds a flavor with an entry point in the ``keel.model_flavors`` group whose value names
a :class:`~keel.models.flavors.base.Flavor` class (instantiated without arguments) or instance::

    [project.entry-points."keel.model_flavors"]
    catboost = "keel_catboost:CatBoostFlavor"

keel registers its built-ins in the same group; :data:`BUILTIN_FLAVORS` is the fallback when
keel runs from a source tree that was never installed. Entries are loaded on first use.

Matching order (the first flavor whose ``matches`` is true saves the model): plugin flavors
first, so a plugin can claim a type a built-in would also take, then the built-ins in the order
of :data:`BUILTIN_FLAVORS` (XGBoost and LightGBM before scikit-learn, whose base class their
wrappers share). An entry point named like a built-in replaces it in place.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from keel.errors import InvalidArgument
from keel.models.flavors.base import Flavor

__all__ = ["BUILTIN_FLAVORS", "ENTRY_POINT_GROUP", "FlavorRegistry", "default_flavors"]

ENTRY_POINT_GROUP = "keel.model_flavors"

BUILTIN_FLAVORS: dict[str, str] = {
    "python_model": "keel.models.flavors.python_model:PythonModelFlavor",
    "xgboost": "keel.models.flavors.xgboost:XGBoostFlavor",
    "lightgbm": "keel.models.flavors.lightgbm:LightGBMFlavor",
    "pytorch": "keel.models.flavors.pytorch:PyTorchFlavor",
    "onnx": "keel.models.flavors.onnx:ONNXFlavor",
    "sklearn": "keel.models.flavors.sklearn:SklearnFlavor",
    "pickle": "keel.models.flavors.pickle:PickleFlavor",
}
"""Built-in flavors in matching order (``pickle`` never matches: it is only used when asked)."""


def _instantiate(name: str, obj: Any) -> Flavor:
    flavor = obj() if isinstance(obj, type) else obj
    if not isinstance(flavor, Flavor):
        raise InvalidArgument(
            f"model flavor {name!r} ({obj!r}) does not implement the Flavor protocol "
            "(name, matches, save, load, predict, has_predict_proba, predict_proba)",
            details={"flavor": name},
        )
    return flavor


def _load_target(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class FlavorRegistry:
    """An ordered table of flavors, each loaded on first use."""

    def __init__(self, flavors: Iterable[Flavor] = ()) -> None:
        self._entries: list[tuple[str, Flavor | str | EntryPoint]] = []
        for flavor in flavors:
            self.register(flavor, first=False)

    @classmethod
    def from_entry_points(cls, found: Iterable[EntryPoint] | None = None) -> FlavorRegistry:
        """The built-ins, replaced or preceded by the ``keel.model_flavors`` entry points
        (``found`` defaults to the installed ones)."""
        registry = cls()
        registry._entries = list(BUILTIN_FLAVORS.items())
        eps = entry_points(group=ENTRY_POINT_GROUP) if found is None else found
        plugins = []
        for ep in sorted(eps, key=lambda e: e.name):
            if ep.name in BUILTIN_FLAVORS:
                if ep.value != BUILTIN_FLAVORS[ep.name]:
                    registry._replace(ep.name, ep)
            else:
                plugins.append((ep.name, ep))
        registry._entries[:0] = plugins
        return registry

    def register(self, flavor: Flavor, *, first: bool = True) -> None:
        """Add ``flavor`` (an instance); one with the same name is replaced in place, otherwise
        it goes first (or last) in the matching order."""
        flavor = _instantiate(getattr(flavor, "name", "?"), flavor)
        if not self._replace(flavor.name, flavor):
            if first:
                self._entries.insert(0, (flavor.name, flavor))
            else:
                self._entries.append((flavor.name, flavor))

    def _replace(self, name: str, entry: Flavor | str | EntryPoint) -> bool:
        for index, (existing, _) in enumerate(self._entries):
            if existing == name:
                self._entries[index] = (name, entry)
                return True
        return False

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._entries]

    def _resolve(self, index: int) -> Flavor:
        name, entry = self._entries[index]
        if isinstance(entry, str):
            flavor = _instantiate(name, _load_target(entry))
        elif isinstance(entry, EntryPoint):
            flavor = _instantiate(name, entry.load())
        else:
            return entry
        self._entries[index] = (name, flavor)
        return flavor

    def get(self, name: str) -> Flavor:
        """The flavor called ``name``; an unknown name lists the known ones."""
        for index, (existing, _) in enumerate(self._entries):
            if existing == name:
                return self._resolve(index)
        raise InvalidArgument(
            f"unknown model flavor {name!r}; known flavors: {', '.join(sorted(self.names))}",
            details={"flavor": name, "known": sorted(self.names)},
        )

    def for_model(self, model: object) -> Flavor:
        """The first flavor whose ``matches(model)`` is true."""
        for index in range(len(self._entries)):
            flavor = self._resolve(index)
            if flavor.matches(model):
                return flavor
        kind = f"{type(model).__module__}.{type(model).__qualname__}"
        raise InvalidArgument(
            f"no model flavor recognises a {kind}; pass flavor=... (known: "
            f"{', '.join(sorted(self.names))}), wrap it in a keel.models.PythonModel, or save it "
            "with serialization='cloudpickle' (loading it then needs trust=True)",
            details={"type": kind, "known": sorted(self.names)},
        )


def default_flavors() -> FlavorRegistry:
    """keel's built-ins plus every installed ``keel.model_flavors`` entry point."""
    return FlavorRegistry.from_entry_points()
