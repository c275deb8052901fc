"""Composition root: ``Keel(settings)`` opens the stores named by URLs and wires the services.

Backends are chosen by URL scheme and imported only when used. keel's own backends are
registered through the same entry-point groups a plugin uses (``keel.metadata_stores`` and
``keel.artifact_stores`` in pyproject.toml); the table below is the fallback when keel runs from
a source tree that was never installed.
"""

from __future__ import annotations

import atexit
import importlib
import weakref
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keel.artifacts import ArtifactStore
from keel.config import Settings, load_settings
from keel.errors import InvalidArgument
from keel.tracking._metric_buffer import MetricBuffer
from keel.tracking.compare import Goal, RunComparison, compare_runs
from keel.tracking.datasets import DatasetService
from keel.tracking.experiments import ExperimentService
from keel.tracking.models import Experiment, Run
from keel.tracking.run_artifacts import RunArtifactService
from keel.tracking.runs import RunService
from keel.tracking.store import MetadataStore

if TYPE_CHECKING:
    from keel.auth import AuthService
    from keel.governance import GovernanceService
    from keel.models.predictor import Predictor
    from keel.models.run_models import ModelInfo
    from keel.models.uri import RegistryModelURI
    from keel.registry.approvals import ApprovalService
    from keel.registry.lineage import Direction, LineageGraph
    from keel.registry.models import ModelVersion
    from keel.registry.registry import RegistryService
    from keel.registry.store import AuditStore, RegistryStore
    from keel.registry.webhooks import WebhookDispatcher
    from keel.tracking.models import DatasetVersion

__all__ = ["Keel", "open_artifact_store", "open_metadata_store", "upgrade_metadata_store"]

_BUILTIN_METADATA = {
    "sqlite": "keel.backends._factories:open_sql_metadata",
    "postgresql": "keel.backends._factories:open_sql_metadata",
    "postgresql+psycopg": "keel.backends._factories:open_sql_metadata",
}
_BUILTIN_ARTIFACTS = {
    "file": "keel.backends._factories:open_local_artifacts",
    "s3": "keel.backends._factories:open_s3_artifacts",
}


def _factories(group: str, builtin: Mapping[str, str]) -> dict[str, str]:
    table = dict(builtin)
    for ep in entry_points(group=group):
        table[ep.name] = ep.value
    return table


def _load(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return factory


def _scheme(url: str) -> str:
    if "://" not in url:
        return "file"
    return urlsplit(url).scheme.lower()


def _open(group: str, builtin: Mapping[str, str], kind: str, url: str, settings: Settings) -> Any:
    table = _factories(group, builtin)
    scheme = _scheme(url)
    if scheme not in table:
        raise InvalidArgument(
            f"unknown {kind} scheme {scheme!r} in {url!r}; "
            f"known schemes: {', '.join(sorted(table))}",
            details={"scheme": scheme},
        )
    return _load(table[scheme])(url, settings)


def open_metadata_store(url: str, settings: Settings) -> MetadataStore:
    """Open the metadata store named by ``url`` (migrations are applied on open)."""
    store: MetadataStore = _open(
        "keel.metadata_stores", _BUILTIN_METADATA, "metadata store", url, settings
    )
    return store


def open_artifact_store(url: str, settings: Settings) -> ArtifactStore:
    """Open the artifact store named by ``url``: a local path, file:// or s3:// (or a plugin's)."""
    store: ArtifactStore = _open(
        "keel.artifact_stores", _BUILTIN_ARTIFACTS, "artifact store", url, settings
    )
    return store


def _close_quietly(ref: weakref.ref[Keel]) -> None:
    client = ref()
    if client is not None:
        client.close()


class Keel:
    """One connection to keel: the services over one metadata store and one artifact store.

    Use it as a context manager, or call ``close()``; buffered metrics are flushed on close and,
    for clients never closed, at interpreter exit.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        metadata: MetadataStore | None = None,
        artifact_store: ArtifactStore | None = None,
    ) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.user = self._user()
        self.remote = bool(self.settings.tracking_url) and metadata is None
        if self.remote:
            from keel.remote import open_remote

            metadata, remote_artifacts = open_remote(self.settings, self.user)
            artifact_store = artifact_store or remote_artifacts
        self.metadata = metadata or open_metadata_store(
            self.settings.resolved_database_url(), self.settings
        )
        try:
            self.artifact_store = artifact_store or open_artifact_store(
                self.settings.resolved_artifacts_url(), self.settings
            )
        except BaseException:
            self.metadata.close()
            raise
        self._buffer = MetricBuffer(
            self.metadata.runs,
            flush_interval=self.settings.metric_flush_interval,
            flush_size=self.settings.metric_flush_size,
        )
        self.experiments = ExperimentService(self.metadata.experiments)
        self.runs = RunService(
            self.metadata.runs, self.experiments, self._buffer, default_user=self.user
        )
        self.artifacts = RunArtifactService(self.metadata.runs, self.artifact_store)
        self.datasets = DatasetService(self.metadata.datasets, self.metadata.runs)
        self._registry: RegistryService | None = None
        self._approvals: ApprovalService | None = None
        self._governance: GovernanceService | None = None
        self._closed = False
        atexit.register(_close_quietly, weakref.ref(self))

    def _user(self) -> str | None:
        if self.settings.user:
            return self.settings.user
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return None

    # -- runs with reproducibility capture -------------------------------------------------

    def create_run(
        self,
        experiment: str | Experiment | None = None,
        *,
        name: str | None = None,
        parent_run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        capture: bool = True,
    ) -> Run:
        """A new RUNNING run; with ``capture`` (and the capture_* settings) it records git state,
        entry point, Python, platform and installed packages."""
        run = self.runs.create_run(
            experiment, name=name, parent_run_id=parent_run_id, tags=tags
        )
        if capture:
            self.capture_environment(run.run_id)
        return run

    def capture_environment(self, run_id: str, *, cwd: Path | None = None) -> None:
        from keel.tracking._environment import capture_environment

        s = self.settings
        captured = capture_environment(
            git=s.capture_git,
            git_diff=s.capture_git_diff,
            packages=s.capture_packages,
            system=s.capture_system,
            cwd=cwd,
            user=self.user,
        )
        if captured.tags:
            self.runs.set_tags(run_id, captured.tags)
        for path, content in captured.files.items():
            self.artifacts.log_bytes(run_id, content, path)

    # -- models and the registry -----------------------------------------------------------

    @property
    def registry(self) -> RegistryService:
        """Registered models, versions, aliases, cards and decisions (built on first use)."""
        if self._registry is None:
            self._build_registry()
        assert self._registry is not None
        return self._registry

    @property
    def approvals(self) -> ApprovalService:
        """Promotion policies, gates and the approval workflow (built on first use)."""
        if self._approvals is None:
            self._build_registry()
        assert self._approvals is not None
        return self._approvals

    def lineage(
        self,
        obj: DatasetVersion | Run | ModelVersion | str,
        *,
        direction: Direction = "both",
        max_depth: int = 10,
    ) -> LineageGraph:
        """The lineage graph around ``obj`` (a dataset version or ref, a run or run id, a model
        version or ``models:/`` URI): dataset versions -> runs -> model versions -> aliases,
        upstream, downstream or both; export with ``to_dict()`` or ``to_openlineage_events()``."""
        if self.remote:
            from keel.remote.audit import remote_lineage

            return remote_lineage(self.metadata, obj, direction=direction, max_depth=max_depth)
        from keel.registry.lineage import LineageService

        service = LineageService(self.registry, self.runs, self.datasets)
        return service.lineage(obj, direction=direction, max_depth=max_depth)

    @property
    def governance(self) -> GovernanceService:
        """Model cards, datasheets and decision logs (built on first use)."""
        if self._governance is None:
            from keel.governance import GovernanceService

            self._governance = GovernanceService(
                self.registry, self.approvals, self.runs, self.datasets
            )
        return self._governance

    def webhooks(self) -> WebhookDispatcher:
        """A dispatcher for the registry's events, from the ``webhook_*`` settings."""
        from keel.registry.webhooks import WebhookDispatcher, load_targets

        s = self.settings
        if not s.webhook_targets or not s.webhook_allowlist:
            raise InvalidArgument(
                "webhooks need KEEL_WEBHOOK_TARGETS (a targets file) and KEEL_WEBHOOK_ALLOWLIST"
            )
        allowlist = [p.strip() for p in s.webhook_allowlist.split(",") if p.strip()]
        return WebhookDispatcher(
            self.audit, load_targets(Path(s.webhook_targets)), allowlist=allowlist,
            max_attempts=s.webhook_max_attempts, timeout=s.webhook_timeout,
        )

    @property
    def auth(self) -> AuthService:
        """Accounts, API tokens and roles (keel.auth) over the metadata store's auth port."""
        from keel.auth import AuthService

        store = getattr(self.metadata, "auth", None)
        if store is None:
            raise InvalidArgument(f"the metadata store at {self.metadata.url!r} has no accounts")
        return AuthService(store)

    @property
    def audit(self) -> AuditStore:
        """The registry's audit log and events (list, verify; through a server, admins only)."""
        if self.remote:
            from keel.remote.audit import RemoteAuditStore

            return RemoteAuditStore.of(self.metadata)
        return self._registry_store().audit

    def _registry_store(self) -> RegistryStore:
        store: RegistryStore | None = getattr(self.metadata, "registry", None)
        if store is None:
            raise InvalidArgument(
                f"the metadata store at {self.metadata.url!r} has no model registry"
            )
        return store

    def _build_registry(self) -> None:
        if self.remote:  # the server runs the services, so that it enforces governance
            from keel.remote.registry import remote_services

            self._registry, self._approvals = remote_services(self)
            return
        from keel.registry.approvals import ApprovalService
        from keel.registry.registry import RegistryService

        store = self._registry_store()
        self._registry = RegistryService(
            store, self.runs, self.artifacts, self.datasets,
            default_actor=self.user or "unknown",
        )
        role_of = None
        if getattr(self.metadata, "auth", None) is not None:
            from keel.auth._roles import model_role_lookup

            role_of = model_role_lookup(self.auth)
        self._approvals = ApprovalService(store, self._registry, role_of=role_of)

    def log_model(self, run_id: str, model: Any, name: str, **options: Any) -> ModelInfo:
        """Save ``model`` in the run's artifacts under ``name`` (see keel.models.save_model for
        the options: signature, input_example, metadata, flavor, serialization, ...)."""
        from keel.models.run_models import log_model

        return log_model(self.artifacts, run_id, model, name, **options)

    def load_model(
        self, uri: str, *, trust: bool = False, trusted_types: Sequence[str] | None = None
    ) -> Predictor:
        """A Predictor for ``runs:/<run_id>/<path>``, ``models:/<name>/<version>`` or
        ``models:/<name>@<alias>``; digests are verified before anything is loaded."""
        from keel.models.run_models import load_model

        return load_model(
            uri, run_artifacts=self.artifacts, registry_resolver=self._resolve_registered,
            trust=trust, trusted_types=trusted_types,
        )

    def _resolve_registered(self, uri: RegistryModelURI) -> tuple[str, str]:
        from keel.models.uri import RunModelURI, parse_model_uri

        version = self.registry.resolve(uri.name, version=uri.version, alias=uri.alias)
        source = parse_model_uri(version.source)
        if not isinstance(source, RunModelURI):
            raise InvalidArgument(f"{uri} has source {version.source!r}, not a logged model")
        return source.run_id, source.path

    # -- comparison -------------------------------------------------------------------------

    def compare_runs(
        self, run_ids: Sequence[str | Run], *, goals: Mapping[str, Goal] | None = None
    ) -> RunComparison:
        """Params and final/best metrics side by side, differences flagged, histories aligned
        by step. ``goals`` overrides the inferred direction ('min' for losses and errors)."""
        return compare_runs(self.runs, run_ids, goals)

    # -- lifecycle --------------------------------------------------------------------------

    def flush(self) -> None:
        self._buffer.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._buffer.close()
        finally:
            self.metadata.close()

    def __enter__(self) -> Keel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Keel(metadata={self.metadata.url!r}, artifacts={self.artifact_store.url!r})"


def upgrade_metadata_store(url: str) -> str:
    """Bring the metadata store at ``url`` to the current schema; returns the revision."""
    store = open_metadata_store(url, load_settings())
    try:
        revision: str = getattr(store, "schema_revision", "current")
        return revision
    finally:
        store.close()
