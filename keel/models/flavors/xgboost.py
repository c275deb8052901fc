"""XGBoost boosters and their scikit-learn wrappers, in XGBoost's own format (no pickle).

``save_model`` writes UBJSON by default (``xgb_format="json"`` for readable JSON); for the
wrappers (XGBClassifier, XGBRegressor, …) XGBoost stores the scikit-learn attributes it needs
(classes, objective) in the same file. ``MODEL.yaml`` records which class to rebuild, chosen from
a fixed list (never imported by a name read from the manifest).
"""

from __future__ import annotations

from collections.abc import Mapping
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
    from keel.models.spec import ModelSpec

__all__ = ["XGBoostFlavor"]

_ESTIMATORS = (
    "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor"
)
_FORMATS = {"ubj": "model.ubj", "json": "model.json"}


def _xgboost() -> Any:
    return require("xgboost", extra="xgboost")


def _estimator(model: object) -> str:
    for cls in type(model).__mro__:
        if cls.__module__.startswith("xgboost") and cls.__name__ in (*_ESTIMATORS, "Booster"):
            return cls.__name__
    raise InvalidArgument(  # pragma: no cover - matches() admits only these
        f"the xgboost flavor does not know {type(model).__qualname__}"
    )


class XGBoostFlavor(BaseFlavor):
    name = "xgboost"
    options = frozenset({"xgb_format"})

    def matches(self, model: object) -> bool:
        names = mro_names(model)
        return "xgboost.core.Booster" in names or "xgboost.sklearn.XGBModel" in names

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        xgb = _xgboost()
        fmt = str(options.get("xgb_format", "ubj"))
        if fmt not in _FORMATS:
            raise InvalidArgument(
                f"xgb_format must be one of {', '.join(_FORMATS)}, not {fmt!r}",
                details={"xgb_format": fmt},
            )
        estimator = _estimator(model)
        model.save_model(str(directory / _FORMATS[fmt]))
        version = module_version(xgb)
        return FlavorSaved(
            format=f"xgboost-{fmt}",
            framework="xgboost",
            framework_version=version,
            requirements=(f"xgboost=={version}",),
            config={"model_file": _FORMATS[fmt], "estimator": estimator},
        )

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> Any:
        xgb = _xgboost()
        estimator = str(spec.flavor_config.get("estimator", "Booster"))
        if estimator not in (*_ESTIMATORS, "Booster"):
            raise InvalidArgument(
                f"unknown XGBoost estimator {estimator!r} in MODEL.yaml",
                details={"estimator": estimator},
            )
        model = getattr(xgb, estimator)()
        model.load_model(str(directory / str(spec.flavor_config["model_file"])))
        return model

    def predict(self, loaded: Any, data: Any) -> Any:
        xgb = _xgboost()
        if isinstance(loaded, xgb.Booster):
            return loaded.predict(xgb.DMatrix(self._input(loaded.feature_names, data)))
        return loaded.predict(self._input(getattr(loaded, "feature_names_in_", None), data))

    @staticmethod
    def _input(feature_names: Any, data: Any) -> Any:
        import pandas as pd

        if isinstance(data, pd.DataFrame) and feature_names is None:
            return data.to_numpy()
        return data

    def has_predict_proba(self, loaded: Any) -> bool:
        return hasattr(loaded, "predict_proba")

    def predict_proba(self, loaded: Any, data: Any) -> Any:
        return loaded.predict_proba(self._input(getattr(loaded, "feature_names_in_", None), data))
