"""LightGBM boosters and their scikit-learn wrappers, in LightGBM's text model format.

The text file holds the trees (and the pandas categories, when trained on a frame). For
LGBMClassifier keel keeps what ``predict``/``predict_proba`` need besides the booster — the
class labels — in ``MODEL.yaml``, and computes them the way the wrapper does: probabilities from
the booster (two columns for a binary model), labels as the class of the highest probability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument
from keel.models.flavors.base import (
    BaseFlavor,
    FlavorSaved,
    TrustPolicy,
    module_version,
    mro_names,
    require,
)

if TYPE_CHECKING:
    import numpy

    from keel.models.spec import ModelSpec

__all__ = ["LightGBMFlavor", "LoadedLightGBM"]

_MODEL_FILE = "model.txt"
_WRAPPERS = ("LGBMClassifier", "LGBMRegressor", "LGBMRanker")


@dataclass(frozen=True)
class LoadedLightGBM:
    """A booster plus, for a classifier, its class labels."""

    booster: Any
    estimator: str
    classes: numpy.ndarray | None = None


def _lightgbm() -> Any:
    return require("lightgbm", extra="lightgbm")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


class LightGBMFlavor(BaseFlavor):
    name = "lightgbm"

    def matches(self, model: object) -> bool:
        names = mro_names(model)
        return "lightgbm.basic.Booster" in names or "lightgbm.sklearn.LGBMModel" in names

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        lgb = _lightgbm()
        config: dict[str, Any] = {"model_file": _MODEL_FILE, "estimator": "Booster"}
        booster = model
        if not isinstance(model, lgb.Booster):
            estimator = next(
                (c.__name__ for c in type(model).__mro__
                 if c.__module__.startswith("lightgbm") and c.__name__ in _WRAPPERS),
                "LGBMModel",
            )
            booster = model.booster_  # raises if the model was never fitted
            config["estimator"] = estimator
            if estimator == "LGBMClassifier":
                if callable(getattr(model, "objective_", None)):
                    raise InvalidArgument(
                        "an LGBMClassifier with a custom objective function cannot be saved in "
                        "LightGBM's format; use serialization='cloudpickle'"
                    )
                config["classes"] = [_plain(c) for c in model.classes_]
        booster.save_model(str(directory / _MODEL_FILE))
        version = module_version(lgb)
        return FlavorSaved(
            format="lightgbm-text",
            framework="lightgbm",
            framework_version=version,
            requirements=(f"lightgbm=={version}",),
            config=config,
        )

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> LoadedLightGBM:
        import numpy as np

        lgb = _lightgbm()
        booster = lgb.Booster(model_file=str(directory / str(spec.flavor_config["model_file"])))
        classes = spec.flavor_config.get("classes")
        return LoadedLightGBM(
            booster=booster,
            estimator=str(spec.flavor_config.get("estimator", "Booster")),
            classes=np.asarray(classes) if classes is not None else None,
        )

    def predict(self, loaded: LoadedLightGBM, data: Any) -> Any:
        if loaded.classes is None:
            return loaded.booster.predict(data)
        proba = self.predict_proba(loaded, data)
        return loaded.classes[proba.argmax(axis=1)]

    def has_predict_proba(self, loaded: LoadedLightGBM) -> bool:
        return loaded.classes is not None

    def predict_proba(self, loaded: LoadedLightGBM, data: Any) -> Any:
        import numpy as np

        if loaded.classes is None:
            return super().predict_proba(loaded, data)
        result = loaded.booster.predict(data)
        if result.ndim == 1:
            return np.vstack((1.0 - result, result)).transpose()
        return result
