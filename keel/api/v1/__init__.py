"""keel's own REST API, ``/api/v1``: one router per capability."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from keel.api.v1 import (
        _approvals,
        _artifacts,
        _audit,
        _auth,
        _datasets,
        _experiments,
        _governance,
        _lineage,
        _registry,
        _runs,
        _uploads,
    )

    return [_experiments.router, _runs.router, _datasets.router, _artifacts.router,
            _uploads.router, _auth.router,
            # _registry last: its routes on the bare model (/registered-models/{name:path})
            # match every path below /registered-models/, so they must come after the others.
            _approvals.router, _governance.router, _audit.router, _lineage.router,
            _registry.router]
