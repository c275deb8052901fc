"""Save a model into a directory with its ``MODEL.yaml``, and load it back as a Predictor.

``save_model`` builds the directory next to its destination under a temporary name and renames
it into place when complete, so a crash never leaves a half-written model at the destination.
``load_model_from_directory`` checks every file against ``MODEL.yaml`` before any of them is
read by a framework (see :mod:`keel.models.spec`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.errors import InvalidArgument
from keel.models import _frames
from keel.models.errors import UntrustedModel
from keel.models.flavors.base import Flavor, TrustPolicy
from keel.models.flavors.registry import FlavorRegistry, default_flavors
from keel.models.predictor import Predictor
from keel.models.prepare import prepare_input
from keel.models.signature import Signature, infer_signature
from keel.models.spec import (
    ModelSpec,
    check_json_able,
    compute_model_digest,
    read_spec,
    scan_files,
    verify_files,
    write_spec,
)

__all__ = ["EXAMPLE_ROWS", "load_model_from_directory", "save_model"]

SERIALIZATIONS = ("safe", "pickle", "cloudpickle")
EXAMPLE_ROWS = 100
"""At most this many rows of an input example are stored with the model."""


def _keel_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("keelml")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


def _choose_flavor(
    registry: FlavorRegistry, model: Any, flavor: str | None, serialization: str
) -> Flavor:
    if serialization not in SERIALIZATIONS:
        raise InvalidArgument(
            f"serialization must be one of {', '.join(SERIALIZATIONS)}, not {serialization!r}",
            details={"serialization": serialization},
        )
    if serialization != "safe":
        if flavor not in (None, "pickle"):
            raise InvalidArgument(
                f"serialization={serialization!r} saves with the pickle flavor, not {flavor!r}"
            )
        return registry.get("pickle")
    if flavor == "pickle":
        raise InvalidArgument(
            "the pickle flavor is chosen with serialization='pickle' or 'cloudpickle'"
        )
    return registry.get(flavor) if flavor else registry.for_model(model)


def _signature(signature: Signature | Mapping[str, Any] | None, example: Any) -> Signature | None:
    if isinstance(signature, Mapping):
        signature = Signature.from_dict(signature)
    if signature is not None and not isinstance(signature, Signature):
        raise InvalidArgument(
            f"signature must be a Signature or its dict form, not {type(signature).__name__}"
        )
    if signature is None and example is not None:
        return infer_signature(example)
    if signature is not None and example is not None:
        prepare_input(signature, example)  # the example must satisfy the declared signature
    return signature


def _write_example(directory: Path, example: Any) -> str:
    import numpy as np

    shaped = _frames.as_tensor_like(example)
    if isinstance(shaped, dict):
        heads: dict[str, Any] = {k: v[:EXAMPLE_ROWS] for k, v in shaped.items()}
        np.savez(directory / "input_example.npz", allow_pickle=False, **heads)
        return "input_example.npz"
    if shaped is not None:
        if shaped.dtype.kind == "O":
            raise InvalidArgument("an input example array of Python objects cannot be stored")
        np.save(directory / "input_example.npy", shaped[:EXAMPLE_ROWS], allow_pickle=False)
        return "input_example.npy"
    frame = _frames.as_frame(example, names=None, what="input example")
    if frame is None:
        raise InvalidArgument(
            f"input_example must be {_frames.ACCEPTED}, not {type(example).__name__}"
        )
    head = frame.head(EXAMPLE_ROWS)
    columns = [str(c) for c in head.columns]
    data = {str(c): head[c].astype(object).where(head[c].notna(), None).tolist()
            for c in head.columns}
    lines = ",\n".join(
        f"  {json.dumps(c)}: {json.dumps(v, default=str, ensure_ascii=False)}"
        for c, v in data.items()
    )
    text = f'{{"columns": {json.dumps(columns, ensure_ascii=False)},\n "data": {{\n{lines}\n}}}}\n'
    (directory / "input_example.json").write_text(text, encoding="utf-8")
    return "input_example.json"


def _read_example(directory: Path, name: str | None) -> Any:
    if not name:
        return None
    import numpy as np

    path = directory / name
    if name.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    import pandas as pd

    payload = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame({c: payload["data"][c] for c in payload["columns"]})


def save_model(
    model: Any,
    directory: str | os.PathLike[str],
    *,
    signature: Signature | Mapping[str, Any] | None = None,
    input_example: Any = None,
    metadata: Mapping[str, Any] | None = None,
    flavor: str | None = None,
    serialization: str = "safe",
    requirements: Iterable[str] | None = None,
    flavors: FlavorRegistry | None = None,
    **flavor_options: Any,
) -> ModelSpec:
    """Save ``model`` into ``directory`` (which must not exist, or be empty).

    The flavor is ``flavor`` or the first whose ``matches`` accepts the model;
    ``serialization="pickle"``/``"cloudpickle"`` picks the pickle flavor (then loading needs
    ``trust=True``). The signature is ``signature``, else inferred from ``input_example``, else
    the one the model declares (ONNX), else none. At most :data:`EXAMPLE_ROWS` rows of the
    example are stored. ``flavor_options`` go to the flavor (``torch_init``, ``torch_format``,
    ``weights_format``, ``xgb_format``, ``artifacts``); an unknown one is refused.
    """
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidArgument(
            f"{target} already exists and is not an empty directory",
            details={"path": str(target)},
        )
    registry = flavors if flavors is not None else default_flavors()
    chosen = _choose_flavor(registry, model, flavor, serialization)
    options = dict(flavor_options)
    if serialization != "safe":
        options["serialization"] = serialization
    meta = dict(metadata or {})
    check_json_able(meta, "metadata")
    sig = _signature(signature, input_example)
    extra = [str(r) for r in requirements or ()]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".keel-model-", dir=target.parent))
    try:
        saved = chosen.save(model, staging, options)
        example = _write_example(staging, input_example) if input_example is not None else None
        files = scan_files(staging)
        spec = ModelSpec(
            flavor=chosen.name,
            format=saved.format,
            serialization=serialization,
            pickle=saved.pickle,
            framework=saved.framework,
            framework_version=saved.framework_version,
            python_version=platform.python_version(),
            keel_version=_keel_version(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            files=files,
            model_digest=compute_model_digest(files),
            signature=sig if sig is not None else saved.signature,
            input_example=example,
            requirements=tuple(dict.fromkeys([*saved.requirements, *extra])),
            metadata=meta,
            flavor_config=dict(saved.config),
        )
        write_spec(staging, spec)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return spec


def load_model_from_directory(
    directory: str | os.PathLike[str],
    *,
    trust: bool = False,
    trusted_types: Iterable[str] | None = None,
    flavors: FlavorRegistry | None = None,
) -> Predictor:
    """Verify every file of the saved model in ``directory``, then load it.

    ``trust=True`` is needed for a pickled model (and trusts any type in a skops file);
    ``trusted_types`` names the extra types a skops file may use.
    """
    root = Path(directory)
    spec = read_spec(root)
    verify_files(root, spec)
    if spec.pickle and not trust:
        raise UntrustedModel(
            f"the model in {root} is pickled ({spec.format}): loading it runs code stored in "
            "the file, which can do anything. Pass trust=True only if you trust where the model "
            "came from",
            details={"format": spec.format, "pickle": True},
        )
    registry = flavors if flavors is not None else default_flavors()
    flavor = registry.get(spec.flavor)
    policy = TrustPolicy(trust=trust, trusted_types=frozenset(trusted_types or ()))
    loaded = flavor.load(root, spec, policy)
    return Predictor(
        flavor, loaded, spec, directory=root,
        input_example=_read_example(root, spec.input_example),
    )
