"""A plugin flavor, registered in tests the way an entry point would register it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from keel.models import BaseFlavor, FlavorSaved, ModelSpec, TrustPolicy


class LinearRule:
    """y = x @ coef + intercept."""

    def __init__(self, coef: list[float], intercept: float) -> None:
        self.coef = coef
        self.intercept = intercept


class TinyFlavor(BaseFlavor):
    name = "tiny"

    def matches(self, model: object) -> bool:
        return isinstance(model, LinearRule)

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        payload = {"coef": model.coef, "intercept": model.intercept}
        (directory / "rule.json").write_text(json.dumps(payload))
        return FlavorSaved(format="tiny-json", framework="tiny", framework_version="1.0")

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> LinearRule:
        payload = json.loads((directory / "rule.json").read_text())
        return LinearRule(payload["coef"], payload["intercept"])

    def predict(self, loaded: LinearRule, data: Any) -> Any:
        return np.asarray(data, dtype=np.float64) @ np.asarray(loaded.coef) + loaded.intercept
