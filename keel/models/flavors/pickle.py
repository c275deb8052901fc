"""pickle and cloudpickle, only when asked for: ``serialization="pickle"`` or ``"cloudpickle"``.

Unpickling runs whatever code the file names, so a pickled model loads only with
``trust=True``; ``MODEL.yaml`` says ``pickle: true`` so anyone can see it before loading. The
model needs a ``predict`` method (``predict_proba`` is used when present) or is a
:class:`keel.models.PythonModel`, whose ``load_context`` is called with an empty context.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument
from keel.models.errors import UntrustedModel
from keel.models.flavors.base import BaseFlavor, FlavorSaved, TrustPolicy, require
from keel.models.flavors.python_model import LoadedPythonModel, has_own_predict_proba
from keel.models.flavors.sklearn import sklearn_input
from keel.models.python_model import ModelContext, PythonModel

if TYPE_CHECKING:
    from keel.models.spec import ModelSpec

__all__ = ["PickleFlavor"]

_MODEL_FILE = "model.pkl"
SERIALIZATIONS = ("pickle", "cloudpickle")


class PickleFlavor(BaseFlavor):
    name = "pickle"
    options = frozenset({"serialization"})

    def matches(self, model: object) -> bool:
        return False  # never chosen by type: only when the caller asks for pickle

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        serialization = str(options.get("serialization", "pickle"))
        if serialization not in SERIALIZATIONS:
            raise InvalidArgument(
                f"the pickle flavor writes 'pickle' or 'cloudpickle', not {serialization!r}"
            )
        if not isinstance(model, PythonModel) and not callable(getattr(model, "predict", None)):
            raise InvalidArgument(
                f"a pickled model needs a predict method; {type(model).__qualname__} has none "
                "(wrap it in a keel.models.PythonModel)"
            )
        path = directory / _MODEL_FILE
        if serialization == "cloudpickle":
            cloudpickle = require("cloudpickle", extra="cloudpickle")
            with path.open("wb") as fh:
                cloudpickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
            requirements: tuple[str, ...] = (f"cloudpickle=={cloudpickle.__version__}",)
        else:
            with path.open("wb") as fh:
                pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
            requirements = ()
        top = type(model).__module__.partition(".")[0]
        module = sys.modules.get(top) if top != "__main__" else None
        return FlavorSaved(
            format=serialization,
            framework=top,
            framework_version=str(getattr(module, "__version__", "unknown")),
            requirements=requirements,
            config={
                "model_file": _MODEL_FILE,
                "class": f"{type(model).__module__}.{type(model).__qualname__}",
            },
            pickle=True,
        )

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> Any:
        if not trust.trust:
            raise UntrustedModel(
                f"the model in {directory} was saved with {spec.format}: loading it runs code "
                "stored in the file, which can do anything. Pass trust=True only if you trust "
                "where the model came from",
                details={"format": spec.format, "pickle": True},
            )
        with (directory / str(spec.flavor_config.get("model_file", _MODEL_FILE))).open("rb") as fh:
            model = pickle.load(fh)
        if isinstance(model, PythonModel):
            context = ModelContext(directory=directory)
            model.load_context(context)
            return LoadedPythonModel(model, context)
        return model

    def predict(self, loaded: Any, data: Any) -> Any:
        if isinstance(loaded, LoadedPythonModel):
            return loaded.model.predict(loaded.context, data)
        return loaded.predict(sklearn_input(loaded, data))

    def has_predict_proba(self, loaded: Any) -> bool:
        if isinstance(loaded, LoadedPythonModel):
            return has_own_predict_proba(loaded.model)
        return callable(getattr(loaded, "predict_proba", None))

    def predict_proba(self, loaded: Any, data: Any) -> Any:
        if not self.has_predict_proba(loaded):
            return super().predict_proba(loaded, data)
        if isinstance(loaded, LoadedPythonModel):
            return loaded.model.predict_proba(loaded.context, data)  # type: ignore[attr-defined]
        return loaded.predict_proba(sklearn_input(loaded, data))
