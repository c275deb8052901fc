"""PyTorch modules: weights only (state dict + architecture reference) or TorchScript.

``torch_format="state_dict"`` (the default for an ``nn.Module``) saves the weights — with
safetensors when it is installed (``model.safetensors``), else ``torch.save`` of the state dict
(``model.pt``, loaded back with ``torch.load(weights_only=True)``) — plus the class as
``module:QualName`` and the constructor arguments the caller gives as ``torch_init``. Loading
imports that class (it must subclass ``torch.nn.Module``), builds it with ``torch_init`` and
loads the weights strictly. Saving checks that this works before writing anything.

``torch_format="torchscript"`` (the default for a ``ScriptModule``) saves with
``torch.jit.save``; a plain module is compiled with ``torch.jit.script`` first. TorchScript is
deprecated since torch 2.10 (its calls warn); keel silences those warnings for its own calls and
keeps it, because it is the one whole-program format torch loads without unpickling: archives
from ``torch.export`` are not offered, since ``torch.export.load`` falls back to
``torch.load(weights_only=False)`` — pickle — when the safe load fails.

Predictions run on CPU in ``eval`` mode under ``torch.inference_mode``; float input is cast to
the dtype of the module's parameters, and the output comes back as a NumPy array.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidArgument
from keel.models.flavors.base import (
    BaseFlavor,
    FlavorSaved,
    TrustPolicy,
    class_reference,
    module_version,
    mro_names,
    require,
    resolve_class,
)
from keel.models.spec import check_json_able

if TYPE_CHECKING:
    from keel.models.spec import ModelSpec

__all__ = ["PyTorchFlavor"]

_WEIGHTS = {"safetensors": "model.safetensors", "pt": "model.pt"}
_SCRIPT_FILE = "model.torchscript.pt"


def _torch() -> Any:
    return require("torch", extra="pytorch")


@contextlib.contextmanager
def _quiet_torchscript() -> Iterator[None]:
    """torch >= 2.10 warns on every torch.jit call; keel chose TorchScript knowingly."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit", category=DeprecationWarning)
        yield


def _has_safetensors() -> bool:
    import importlib.util

    return importlib.util.find_spec("safetensors") is not None


class PyTorchFlavor(BaseFlavor):
    name = "pytorch"
    options = frozenset({"torch_format", "torch_init", "weights_format"})

    def matches(self, model: object) -> bool:
        return "torch.nn.modules.module.Module" in mro_names(model)

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        torch = _torch()
        is_script = isinstance(model, torch.jit.ScriptModule)
        fmt = str(options.get("torch_format", "torchscript" if is_script else "state_dict"))
        version = module_version(torch).split("+")[0]
        requirements = [f"torch=={version}"]
        if fmt == "torchscript":
            if options.get("torch_init") is not None:
                raise InvalidArgument("torch_init is for torch_format='state_dict' only")
            scripted = model if is_script else self._script(torch, model)
            with _quiet_torchscript():
                torch.jit.save(scripted, str(directory / _SCRIPT_FILE))
            config: dict[str, Any] = {"model_file": _SCRIPT_FILE}
        elif fmt == "state_dict":
            if is_script:
                raise InvalidArgument(
                    "a ScriptModule is saved with torch_format='torchscript'",
                    details={"torch_format": fmt},
                )
            config = self._save_state_dict(torch, model, directory, options)
            if config["weights_format"] == "safetensors":
                safetensors = require("safetensors", extra="pytorch")
                requirements.append(f"safetensors=={module_version(safetensors)}")
        else:
            raise InvalidArgument(
                f"torch_format must be 'state_dict' or 'torchscript', not {fmt!r}",
                details={"torch_format": fmt},
            )
        if fmt != "torchscript":
            fmt = f"torch-state-dict-{config['weights_format']}"
        return FlavorSaved(
            format=fmt,
            framework="torch",
            framework_version=module_version(torch),
            requirements=tuple(requirements),
            config=config,
        )

    @staticmethod
    def _script(torch: Any, model: Any) -> Any:
        try:
            with _quiet_torchscript():
                return torch.jit.script(model)
        except Exception as exc:
            raise InvalidArgument(
                f"torch.jit.script could not compile {type(model).__qualname__}: {exc}; pass a "
                "module traced with torch.jit.trace instead, or use torch_format='state_dict'",
            ) from None

    @staticmethod
    def _save_state_dict(
        torch: Any, model: Any, directory: Path, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        reference = class_reference(
            type(model), what="the torch module",
            alternative="save it with torch_format='torchscript'",
        )
        init = dict(options.get("torch_init") or {})
        check_json_able(init, "torch_init")
        weights = str(options.get("weights_format")
                      or ("safetensors" if _has_safetensors() else "pt"))
        if weights not in _WEIGHTS:
            raise InvalidArgument(
                f"weights_format must be 'safetensors' or 'pt', not {weights!r}",
                details={"weights_format": weights},
            )
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        try:  # the reference and torch_init must rebuild the module, or loading would fail
            rebuilt = resolve_class(reference, torch.nn.Module, what="torch module")(**init)
            rebuilt.load_state_dict(state, strict=True)
        except (TypeError, RuntimeError) as exc:
            raise InvalidArgument(
                f"{reference}(**torch_init) does not rebuild the module being saved: {exc}; "
                "pass the constructor arguments as torch_init={...}",
                details={"module": reference, "torch_init": init},
            ) from None
        path = directory / _WEIGHTS[weights]
        if weights == "safetensors":
            from safetensors.torch import save_file

            save_file(state, str(path))
        else:
            torch.save(state, str(path))
        return {"model_file": path.name, "weights_format": weights, "module": reference,
                "torch_init": init}

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> Any:
        torch = _torch()
        config = spec.flavor_config
        path = directory / str(config["model_file"])
        if spec.format == "torchscript":
            with _quiet_torchscript():
                model = torch.jit.load(str(path), map_location="cpu")
        else:
            cls = resolve_class(str(config["module"]), torch.nn.Module, what="torch module")
            model = cls(**dict(config.get("torch_init") or {}))
            if config.get("weights_format") == "safetensors":
                require("safetensors", extra="pytorch")
                from safetensors.torch import load_file

                state = load_file(str(path), device="cpu")
            else:
                state = torch.load(str(path), map_location="cpu", weights_only=True)
            model.load_state_dict(state, strict=True)
        model.eval()
        return model

    def predict(self, loaded: Any, data: Any) -> Any:
        torch = _torch()
        dtype = next(
            (p.dtype for p in loaded.parameters() if p.dtype.is_floating_point), None
        )

        def tensor(value: Any) -> Any:
            import numpy as np

            array = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
            t = torch.from_numpy(np.ascontiguousarray(array))
            return t.to(dtype) if dtype is not None and t.is_floating_point() else t

        with torch.inference_mode():
            if isinstance(data, Mapping):
                out = loaded(**{k: tensor(v) for k, v in data.items()})
            else:
                out = loaded(tensor(data))
        if isinstance(out, tuple | list):
            out = out[0]
        return out.detach().cpu().numpy()
