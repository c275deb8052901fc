"""Models as run artifacts: ``log_model`` saves into a run, ``load_model`` loads from a URI.

``log_model`` saves the model into a temporary directory (see :func:`save_model`) and uploads
the whole directory under ``<name>`` in the run's artifacts, where every file's sha256 is
recorded; the model's URI is then ``runs:/<run_id>/<name>``. ``load_model`` resolves a URI
(``runs:/``, ``models:/…/<version>``, ``models:/…@<alias>``, or a local directory), downloads the
model (each file checked against the digest recorded at upload), verifies it against its
``MODEL.yaml`` and loads it. The download lives as long as the returned Predictor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.artifacts.paths import safe_key
from keel.errors import AlreadyExists
from keel.models.package import load_model_from_directory, save_model
from keel.models.uri import RegistryResolver, resolve_model_uri

if TYPE_CHECKING:
    from keel.models.flavors.registry import FlavorRegistry
    from keel.models.predictor import Predictor
    from keel.models.signature import Signature
    from keel.models.spec import ModelSpec
    from keel.tracking.run_artifacts import RunArtifactService

__all__ = ["ModelInfo", "load_model", "log_model"]


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` saved, and where: load it again with ``load_model(info.uri)``."""

    uri: str
    run_id: str
    artifact_path: str
    flavor: str
    model_digest: str
    signature: Signature | None
    spec: ModelSpec


def log_model(
    run_artifacts: RunArtifactService,
    run_id: str,
    model: Any,
    name: str,
    *,
    signature: Signature | Mapping[str, Any] | None = None,
    input_example: Any = None,
    metadata: Mapping[str, Any] | None = None,
    flavor: str | None = None,
    serialization: str = "safe",
    requirements: Iterable[str] | None = None,
    flavors: FlavorRegistry | None = None,
    **flavor_options: Any,
) -> ModelInfo:
    """Save ``model`` under ``name`` in the run's artifacts; the arguments after ``name`` are
    those of :func:`~keel.models.save_model`. A run that already has artifacts under ``name`` is
    refused: a logged model is never changed afterwards."""
    path = safe_key(name)
    if run_artifacts.list_artifacts(run_id, path):
        raise AlreadyExists(
            f"run {run_id} already has artifacts under {path!r}; log the model under another "
            "name",
            details={"run_id": run_id, "path": path},
        )
    with tempfile.TemporaryDirectory(prefix="keel-model-") as tmp:
        local = Path(tmp) / "model"
        spec = save_model(
            model, local, signature=signature, input_example=input_example, metadata=metadata,
            flavor=flavor, serialization=serialization, requirements=requirements,
            flavors=flavors, **flavor_options,
        )
        run_artifacts.log_artifacts(run_id, local, artifact_path=path)
    return ModelInfo(
        uri=f"runs:/{run_id}/{path}",
        run_id=run_id,
        artifact_path=path,
        flavor=spec.flavor,
        model_digest=spec.model_digest,
        signature=spec.signature,
        spec=spec,
    )


def load_model(
    uri: str | os.PathLike[str],
    *,
    run_artifacts: RunArtifactService,
    registry_resolver: RegistryResolver | None = None,
    trust: bool = False,
    trusted_types: Iterable[str] | None = None,
    flavors: FlavorRegistry | None = None,
) -> Predictor:
    """The model at ``uri`` as a Predictor (see the module docstring). ``trust`` and
    ``trusted_types`` are those of :func:`~keel.models.load_model_from_directory`."""
    text = os.fspath(uri)
    if text.startswith("file://"):
        text = text[len("file://"):]
    if not text.startswith(("runs:/", "models:/")) and Path(text).is_dir():
        return load_model_from_directory(
            text, trust=trust, trusted_types=trusted_types, flavors=flavors
        )
    run_id, path = resolve_model_uri(
        text, run_artifacts=run_artifacts, registry_resolver=registry_resolver
    )
    tmp = Path(tempfile.mkdtemp(prefix="keel-model-"))
    try:
        local = run_artifacts.download_artifacts(run_id, path, dst_path=tmp)
        predictor = load_model_from_directory(
            local, trust=trust, trusted_types=trusted_types, flavors=flavors
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    weakref.finalize(predictor, shutil.rmtree, tmp, ignore_errors=True)
    return predictor
