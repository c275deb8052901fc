"""Model packaging: save any supported model as a directory with a ``MODEL.yaml``, load it back
as a :class:`Predictor` with one interface, and log it into a run.

    from keel.models import save_model, load_model_from_directory
    save_model(pipeline, "out/model", input_example=X_train[:5])
    predictor = load_model_from_directory("out/model")
    predictor.predict(frame)          # pandas, polars, dict of columns, records, NumPy

Flavors: scikit-learn (skops), XGBoost and LightGBM (native files), PyTorch (weights only or
TorchScript), ONNX, :class:`PythonModel` subclasses, and pickle/cloudpickle only when asked for
(loading then needs ``trust=True``). ``import keel.models`` imports none of those frameworks,
nor NumPy or pandas.
"""

from keel.models.errors import ModelIntegrityError, UntrustedModel
from keel.models.flavors import (
    BaseFlavor,
    Flavor,
    FlavorRegistry,
    FlavorSaved,
    TrustPolicy,
    default_flavors,
)
from keel.models.package import load_model_from_directory, save_model
from keel.models.predictor import Predictor
from keel.models.prepare import prepare_input
from keel.models.python_model import ModelContext, PythonModel
from keel.models.run_models import ModelInfo, load_model, log_model
from keel.models.signature import ColumnSpec, Signature, infer_signature
from keel.models.spec import ModelSpec
from keel.models.uri import (
    RegistryModelURI,
    RegistryResolver,
    RunModelURI,
    parse_model_uri,
    resolve_model_uri,
)

__all__ = [
    "BaseFlavor",
    "ColumnSpec",
    "Flavor",
    "FlavorRegistry",
    "FlavorSaved",
    "ModelContext",
    "ModelInfo",
    "ModelIntegrityError",
    "ModelSpec",
    "Predictor",
    "PythonModel",
    "RegistryModelURI",
    "RegistryResolver",
    "RunModelURI",
    "Signature",
    "TrustPolicy",
    "UntrustedModel",
    "default_flavors",
    "infer_signature",
    "load_model",
    "load_model_from_directory",
    "log_model",
    "parse_model_uri",
    "prepare_input",
    "resolve_model_uri",
    "save_model",
]
