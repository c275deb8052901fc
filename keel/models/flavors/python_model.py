"""Custom code as a :class:`keel.models.PythonModel` subclass, saved by reference.

Files: ``state.json`` (``get_state()``), ``artifacts/<name>/…`` (each path given in
``artifacts={name: path}``: a file is copied as ``artifacts/<name>/<file name>``, a directory's
tree as ``artifacts/<name>/…``). ``flavor_config`` holds ``class: module:QualName`` and the
artifact paths relative to the model directory.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.artifacts.paths import safe_key
from keel.errors import InvalidArgument
from keel.models.flavors.base import (
    BaseFlavor,
    FlavorSaved,
    TrustPolicy,
    class_reference,
    resolve_class,
)
from keel.models.python_model import ModelContext, PythonModel
from keel.models.spec import check_json_able

if TYPE_CHECKING:
    from keel.models.spec import ModelSpec

__all__ = ["LoadedPythonModel", "PythonModelFlavor", "has_own_predict_proba"]

_STATE_FILE = "state.json"


@dataclass(frozen=True)
class LoadedPythonModel:
    model: PythonModel
    context: ModelContext


def has_own_predict_proba(model: object) -> bool:
    return callable(getattr(model, "predict_proba", None))


def copy_artifacts(artifacts: Mapping[str, Any], directory: Path) -> dict[str, str]:
    """Copy each artifact into ``directory/artifacts/<name>/``; return their relative paths."""
    out: dict[str, str] = {}
    for name, source in artifacts.items():
        safe = safe_key(str(name))
        if "/" in safe:
            raise InvalidArgument(
                f"artifact name {name!r} must not contain '/'", details={"artifact": name}
            )
        src = Path(source)
        target = directory / "artifacts" / safe
        if src.is_dir():
            shutil.copytree(src, target, symlinks=False)
            out[safe] = f"artifacts/{safe}"
        elif src.is_file():
            target.mkdir(parents=True)
            shutil.copy2(src, target / src.name)
            out[safe] = f"artifacts/{safe}/{src.name}"
        else:
            raise InvalidArgument(
                f"artifact {name!r}: {src} is neither a file nor a directory",
                details={"artifact": name, "path": str(src)},
            )
    return out


def artifact_paths(directory: Path, config: Mapping[str, Any]) -> dict[str, Path]:
    root = directory.resolve()
    out: dict[str, Path] = {}
    for name, rel in (config.get("artifacts") or {}).items():
        path = (directory / safe_key(str(rel))).resolve()
        if not path.is_relative_to(root):  # pragma: no cover - safe_key already refuses '..'
            raise InvalidArgument(f"artifact {name!r} points outside the model")
        out[str(name)] = path
    return out


class PythonModelFlavor(BaseFlavor):
    name = "python_model"
    options = frozenset({"artifacts"})

    def matches(self, model: object) -> bool:
        return isinstance(model, PythonModel)

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> FlavorSaved:
        self.check_options(options)
        if not isinstance(model, PythonModel):
            raise InvalidArgument(
                f"the python_model flavor saves keel.models.PythonModel subclasses, not "
                f"{type(model).__qualname__}"
            )
        reference = class_reference(
            type(model), what="the PythonModel class",
            alternative="save it with serialization='cloudpickle' (loading then needs trust=True)",
        )
        state = dict(model.get_state())
        check_json_able(state, f"{type(model).__qualname__}.get_state()")
        (directory / _STATE_FILE).write_text(json.dumps(state, indent=2, sort_keys=True))
        artifacts = copy_artifacts(dict(options.get("artifacts") or {}), directory)
        top = type(model).__module__.partition(".")[0]
        return FlavorSaved(
            format="python-reference",
            framework=top,
            framework_version=_distribution_version(top),
            config={"class": reference, "state_file": _STATE_FILE, "artifacts": artifacts},
        )

    def load(self, directory: Path, spec: ModelSpec, trust: TrustPolicy) -> LoadedPythonModel:
        config = spec.flavor_config
        cls = resolve_class(str(config["class"]), PythonModel, what="PythonModel class")
        state = json.loads((directory / str(config.get("state_file", _STATE_FILE))).read_text())
        context = ModelContext(
            state=state, artifacts=artifact_paths(directory, config), directory=directory
        )
        model = cls()
        model.load_context(context)
        return LoadedPythonModel(model, context)

    def predict(self, loaded: LoadedPythonModel, data: Any) -> Any:
        return loaded.model.predict(loaded.context, data)

    def has_predict_proba(self, loaded: LoadedPythonModel) -> bool:
        return has_own_predict_proba(loaded.model)

    def predict_proba(self, loaded: LoadedPythonModel, data: Any) -> Any:
        if not self.has_predict_proba(loaded):
            return super().predict_proba(loaded, data)
        return loaded.model.predict_proba(loaded.context, data)  # type: ignore[attr-defined]


def _distribution_version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    for dist in packages_distributions().get(module, []):
        try:
            return version(dist)
        except PackageNotFoundError:  # pragma: no cover
            continue
    return "unknown"
