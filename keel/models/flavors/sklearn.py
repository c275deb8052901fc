"""scikit-learn estimators and pipelines, saved with skops (no pickle).

A skops file lists the types it needs to rebuild the model; skops refuses to load types nobody
trusted. keel trusts, on top of skops' own defaults, every *class* defined in scikit-learn,
NumPy or SciPy's sparse module (resolved by importing it: a name that is a function, or that does
not resolve, is never trusted by keel). Anything else — a custom transformer, a function inside a
``FunctionTransformer`` — must be listed by the caller in ``trusted_types`` (or the caller passes
``trust=True``); otherwise loading is refused with the names listed. ``MODEL.yaml`` records the
names in ``flavor_config.untrusted_types``, so a reader knows in advance what to list.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.models.errors import UntrustedModel
from keel.models.flavors.base import (
    BaseFlavor,
    FlavorSaved,
    TrustPolicy,
    module_version,
    mro_names,
    require,
)

if TYPE_CHECKING:
    from keel.models.spec import ModelSpec

__all__ = ["SklearnFlavor", "keel_trusts", "sklearn_input"]

_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.")
_MODEL_FILE = "model.skops"


def keel_trusts(type_name: str) -> bool:
    """True for a class (not a function) defined under scikit-learn, NumPy or scipy.sparse."""
    if not type_name.startswith(_TRUSTED_PREFIXES):
        return False
    module_name, _, attr = type_name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type) and f"{obj.__module__}.".startswith(_TRUSTED_PREFIXES)


def sklearn_input(model: Any, data: Any) -> Any:
    """A DataFrame as is for a model fitted on named columns, as an array otherwise (so
    scikit-learn does not warn that the names were not seen in fit)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame) and not hasattr(model, "feature_names_in_"):
        return data.to_numpy()
    return data


class SklearnFlavor(BaseFlavor):
    name = "sklearn"

    def matches(self, model: object) -> bool:
        return "sklearn.base.BaseEstimator" in mro_names(model)

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        sio = require("skops.io", extra="sklearn", package="skops")
        skops = require("skops", extra="sklearn")
        sklearn = require("sklearn", extra="sklearn", package="scikit-learn")
        path = directory / _MODEL_FILE
        sio.dump(model, path)
        untrusted = sorted(t for t in sio.get_untrusted_types(file=path) if not keel_trusts(t))
        return FlavorSaved(
            format="skops",
            framework="scikit-learn",
            framework_version=module_version(sklearn),
            requirements=(
                f"scikit-learn=={module_version(sklearn)}",
                f"skops=={module_version(skops)}",
            ),
            config={
                "model_file": _MODEL_FILE,
                "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
                "untrusted_types": untrusted,
            },
        )

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> Any:
        sio = require("skops.io", extra="sklearn", package="skops")
        path = directory / str(spec.flavor_config.get("model_file", _MODEL_FILE))
        untrusted = list(sio.get_untrusted_types(file=path))
        refused = sorted(
            t for t in untrusted
            if not (trust.trust or t in trust.trusted_types or keel_trusts(t))
        )
        if refused:
            raise UntrustedModel(
                f"the scikit-learn model in {directory} needs types that are not trusted: "
                f"{', '.join(refused)}. Loading them could run their code; if you trust this "
                f"model, pass trusted_types={refused!r} to load_model",
                details={"untrusted_types": refused},
            )
        return sio.load(path, trusted=untrusted)

    def predict(self, loaded: Any, data: Any) -> Any:
        return loaded.predict(sklearn_input(loaded, data))

    def has_predict_proba(self, loaded: Any) -> bool:
        return hasattr(loaded, "predict_proba")

    def predict_proba(self, loaded: Any, data: Any) -> Any:
        return loaded.predict_proba(sklearn_input(loaded, data))
