"""ONNX models, stored as the ``.onnx`` file and run with onnxruntime on the CPU provider.

The graph declares its inputs, so a model saved without a signature gets a ``tensor`` signature
read from the graph (element types and shapes, symbolic dimensions as ``-1``). The first output
is ``predict``; a second output (a classifier's probabilities) is ``predict_proba``. ZipMap
probability outputs (a list of dicts per row) are turned into an array with one column per class
in the order of the keys; convert with ``options={"zipmap": False}`` to avoid that per-row step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument
from keel.models.flavors.base import BaseFlavor, FlavorSaved, TrustPolicy, require
from keel.models.signature import ColumnSpec, Signature

if TYPE_CHECKING:
    from keel.models.spec import ModelSpec

__all__ = ["ONNXFlavor"]

_MODEL_FILE = "model.onnx"
# TensorProto element types -> keel dtypes (onnx/onnx.proto).
_ELEM_TYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
}
# onnxruntime's type strings -> NumPy dtype names.
_ORT_TYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16",
    "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32", "tensor(uint64)": "uint64", "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def _graph_signature(model: Any) -> Signature | None:
    initializers = {i.name for i in model.graph.initializer}
    specs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        if value.type.WhichOneof("value") != "tensor_type":
            return None
        tensor = value.type.tensor_type
        dtype = _ELEM_TYPES.get(tensor.elem_type)
        if dtype is None:
            return None
        dims = tuple(
            d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else -1
            for d in tensor.shape.dim
        )
        specs.append(ColumnSpec(name=value.name, dtype=dtype, shape=dims))
    if not specs:
        return None
    return Signature(inputs=tuple(specs), kind="tensor")


class ONNXFlavor(BaseFlavor):
    name = "onnx"

    def matches(self, model: object) -> bool:
        cls = type(model)
        return cls.__module__.startswith("onnx") and cls.__name__ == "ModelProto"

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        onnx = require("onnx", extra="onnx")
        (directory / _MODEL_FILE).write_bytes(model.SerializeToString())
        version = str(getattr(onnx, "__version__", "unknown"))
        requirements = [f"onnx=={version}"]
        try:
            ort = require("onnxruntime", extra="onnx")
            requirements.append(f"onnxruntime=={ort.__version__}")
        except Exception:  # onnxruntime is only needed to load
            pass
        return FlavorSaved(
            format="onnx",
            framework="onnx",
            framework_version=version,
            requirements=tuple(requirements),
            config={
                "model_file": _MODEL_FILE,
                "opsets": {(o.domain or "ai.onnx"): int(o.version) for o in model.opset_import},
            },
            signature=_graph_signature(model),
        )

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> Any:
        ort = require("onnxruntime", extra="onnx")
        path = directory / str(spec.flavor_config.get("model_file", _MODEL_FILE))
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def _feeds(self, session: Any, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        inputs = session.get_inputs()

        def typed(value: Any, node: Any) -> Any:
            array = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
            dtype = _ORT_TYPES.get(node.type)
            return array.astype(dtype, copy=False) if dtype else array

        if isinstance(data, Mapping):
            return {n.name: typed(data[n.name], n) for n in inputs if n.name in data}
        if isinstance(data, pd.DataFrame) and len(inputs) > 1:
            missing = [n.name for n in inputs if n.name not in data.columns]
            if missing:
                raise InvalidArgument(
                    f"the ONNX model takes inputs {[n.name for n in inputs]}; missing {missing}",
                    details={"missing": missing},
                )
            return {n.name: typed(data[n.name].to_numpy().reshape(-1, 1), n) for n in inputs}
        if len(inputs) != 1:
            raise InvalidArgument(
                f"the ONNX model takes {len(inputs)} inputs "
                f"({', '.join(n.name for n in inputs)}); pass a dict of arrays",
            )
        return {inputs[0].name: typed(data, inputs[0])}

    def predict(self, loaded: Any, data: Any) -> Any:
        first = loaded.get_outputs()[0].name
        return loaded.run([first], self._feeds(loaded, data))[0]

    def has_predict_proba(self, loaded: Any) -> bool:
        return len(loaded.get_outputs()) > 1

    def predict_proba(self, loaded: Any, data: Any) -> Any:
        import numpy as np

        if not self.has_predict_proba(loaded):
            return super().predict_proba(loaded, data)
        second = loaded.get_outputs()[1].name
        out = loaded.run([second], self._feeds(loaded, data))[0]
        if isinstance(out, list):  # ZipMap: one {class: probability} dict per row
            keys = list(out[0]) if out else []
            return np.array([[row[k] for k in keys] for row in out])
        return out
