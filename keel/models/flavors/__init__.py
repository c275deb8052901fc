"""Model flavors: the port (:class:`Flavor`), the registry, and keel's built-in flavors.

Built-ins (one module each, framework imported on first use): ``sklearn`` (skops),
``xgboost`` (native UBJ/JSON), ``lightgbm`` (native text), ``pytorch`` (state dict or
TorchScript), ``onnx`` (onnxruntime), ``python_model`` (``keel.models.PythonModel`` by reference)
and ``pickle`` (pickle/cloudpickle, only when asked for; loading needs ``trust=True``).
"""

from keel.models.flavors.base import BaseFlavor, Flavor, FlavorSaved, TrustPolicy
from keel.models.flavors.registry import (
    BUILTIN_FLAVORS,
    ENTRY_POINT_GROUP,
    FlavorRegistry,
    default_flavors,
)

__all__ = [
    "BUILTIN_FLAVORS",
    "ENTRY_POINT_GROUP",
    "BaseFlavor",
    "Flavor",
    "FlavorRegistry",
    "FlavorSaved",
    "TrustPolicy",
    "default_flavors",
]
