"""Models defined in an importable module, so they can be saved by reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from keel.models import ModelContext, PythonModel


class TinyNet(nn.Module):
    """A two-layer regressor: ``in_features`` -> ``hidden`` -> 1."""

    def __init__(self, in_features: int, hidden: int = 8) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(x)
        return out


class Thresholded(PythonModel):
    """Scores a column against a threshold; the weights live in an artifact file."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.weights: np.ndarray | None = None

    def get_state(self) -> dict[str, Any]:
        return {"threshold": self.threshold}

    def load_context(self, context: ModelContext) -> None:
        self.threshold = float(context.state["threshold"])
        self.weights = np.load(context.artifacts["weights"])

    def _scores(self, data: Any) -> np.ndarray:
        assert self.weights is not None
        matrix = data[["a", "b"]].to_numpy(dtype=np.float64)
        scores: np.ndarray = 1.0 / (1.0 + np.exp(-(matrix @ self.weights)))
        return scores

    def predict(self, context: ModelContext, data: Any) -> np.ndarray:
        return (self._scores(data) > self.threshold).astype(np.int64)

    def predict_proba(self, context: ModelContext, data: Any) -> np.ndarray:
        p = self._scores(data)
        return np.column_stack([1.0 - p, p])


class Doubler(PythonModel):
    """No state at all: doubles its input."""

    def predict(self, context: ModelContext, data: Any) -> np.ndarray:
        return np.asarray(data) * 2


class OddState(Doubler):
    """State that JSON cannot hold."""

    def get_state(self) -> dict[str, Any]:
        return {"when": object()}
