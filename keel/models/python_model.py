"""``keel.models.PythonModel``: custom prediction code, saved by reference rather than pickled.

Subclass it in an importable module (not ``__main__``), keep what the model needs in JSON-able
state and files, and rebuild the rest in ``load_context``::

    class Thresholded(PythonModel):
        def __init__(self, threshold: float = 0.5) -> None:
            self.threshold = threshold

        def get_state(self) -> dict[str, float]:
            return {"threshold": self.threshold}

        def load_context(self, context: ModelContext) -> None:
            self.threshold = context.state["threshold"]
            self.scores = numpy.load(context.artifacts["scores"])

        def predict(self, context: ModelContext, data: pandas.DataFrame) -> numpy.ndarray:
            return (data["score"] > self.threshold).to_numpy()

    keel.log_model(Thresholded(0.7), "model", artifacts={"scores": "scores.npy"})

Saving records the class as ``module:QualName``, writes ``get_state()`` to ``state.json`` and
copies each artifact (a file or a directory) into the model. Loading imports the class (it must
subclass PythonModel), creates it with no arguments and calls ``load_context``. A model that
defines ``predict_proba(context, data)`` gets ``Predictor.predict_proba`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ModelContext", "PythonModel"]


@dataclass(frozen=True)
class ModelContext:
    """What a loaded PythonModel gets: its saved state, its artifacts as local paths, and the
    model directory."""

    state: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, Path] = field(default_factory=dict)
    directory: Path | None = None


class PythonModel:
    """Base class for custom models; override ``predict`` (and usually ``get_state`` and
    ``load_context``)."""

    def get_state(self) -> Mapping[str, Any]:
        """JSON-able state saved with the model (default: none)."""
        return {}

    def load_context(self, context: ModelContext) -> None:
        """Called once after loading, before any prediction."""

    def predict(self, context: ModelContext, data: Any) -> Any:
        raise NotImplementedError(f"{type(self).__qualname__} does not implement predict")
