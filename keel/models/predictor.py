"""``Predictor``: one interface to every loaded model, whatever its flavor.

``predict(data)`` and ``predict_proba(data)`` accept a pandas or polars DataFrame, a dict of
columns, a list of records or a NumPy array (see :mod:`keel.models.prepare`); the input is
checked against the signature first, and the result is always a NumPy array (the framework's
own array type, frame or tensor is converted; a classifier's ``predict`` gives labels,
``predict_proba`` one column per class). Work is done on whole batches: nothing loops over rows
in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument
from keel.models.prepare import prepare_input

if TYPE_CHECKING:
    import numpy

    from keel.models.flavors.base import Flavor
    from keel.models.signature import Signature
    from keel.models.spec import ModelSpec

__all__ = ["Predictor"]


def as_numpy(output: Any) -> numpy.ndarray:
    """A model's output as a NumPy array."""
    import numpy as np

    if hasattr(output, "detach"):  # a torch tensor
        output = output.detach().cpu().numpy()
    elif hasattr(output, "to_numpy"):  # pandas or polars
        output = output.to_numpy()
    return np.asarray(output)


class Predictor:
    """A loaded model: ``predict``, ``predict_proba`` and what ``MODEL.yaml`` says about it."""

    def __init__(
        self,
        flavor: Flavor,
        loaded: Any,
        spec: ModelSpec,
        *,
        directory: Path | None = None,
        input_example: Any = None,
    ) -> None:
        self._flavor = flavor
        self._loaded = loaded
        self._spec = spec
        self._directory = directory
        self._input_example = input_example

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def signature(self) -> Signature | None:
        return self._spec.signature

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._spec.metadata

    @property
    def flavor(self) -> str:
        return self._spec.flavor

    @property
    def model_digest(self) -> str:
        return self._spec.model_digest

    @property
    def input_example(self) -> Any:
        """The example saved with the model (a DataFrame or an array), or None."""
        return self._input_example

    @property
    def directory(self) -> Path | None:
        """Where the model's files are on this machine (kept while the Predictor lives)."""
        return self._directory

    @property
    def model(self) -> Any:
        """The framework's own object (an estimator, a booster, a module, a session)."""
        return self._loaded

    @property
    def has_predict_proba(self) -> bool:
        return bool(self._flavor.has_predict_proba(self._loaded))

    def predict(self, data: Any) -> numpy.ndarray:
        """Predictions for ``data``, checked against the signature first."""
        prepared = prepare_input(self._spec.signature, data)
        return as_numpy(self._flavor.predict(self._loaded, prepared))

    def predict_proba(self, data: Any) -> numpy.ndarray:
        """Class probabilities, one column per class; InvalidArgument when the model has
        none."""
        if not self.has_predict_proba:
            raise InvalidArgument(
                f"this {self.flavor} model has no predict_proba",
                details={"flavor": self.flavor},
            )
        prepared = prepare_input(self._spec.signature, data)
        return as_numpy(self._flavor.predict_proba(self._loaded, prepared))

    def __repr__(self) -> str:
        return (
            f"Predictor(flavor={self.flavor!r}, framework={self._spec.framework!r}, "
            f"model_digest={self.model_digest[:12]!r})"
        )
