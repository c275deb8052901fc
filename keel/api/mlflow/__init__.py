"""The MLflow-compatible REST API: ``/api/2.0/mlflow``, ``/api/2.0/mlflow-artifacts`` and
``/api/3.0/mlflow``, over keel's own stores.

With ``MLFLOW_TRACKING_URI=http://<keel server>``, an unchanged script using the ``mlflow``
client logs into keel's tables: an MLflow run is a keel run, MLflow params are keel params, an
MLflow registered model is a keel registered model (audited, governed). docs/mlflow.md lists
every endpoint, what it does and what is refused.

- ``_experiments``, ``_runs``, ``_logging``: tracking; ``_search``: MLflow's filter syntax.
- ``_artifacts``: the artifact proxy; ``_logged_models``: MLflow 3 logged models (``_store`` is
  their port).
- ``_registry``, ``_versions``: registered models, versions, aliases.
- ``_errors``: MLflow's error shape; ``_body``: request fields; ``_shapes``: MLflow's JSON.
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from keel.api.mlflow import (
        _artifacts,
        _errors,
        _experiments,
        _logged_models,
        _logging,
        _registry,
        _runs,
        _versions,
    )

    _errors.install()
    return [_experiments.router, _runs.router, _logging.router, _artifacts.router,
            *_logged_models.routers(), _registry.router, _versions.router]
