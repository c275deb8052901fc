"""Experiments: named groups of runs."""

from __future__ import annotations

from collections.abc import Mapping

from keel.artifacts.paths import safe_key
from keel.core import Page, decode_page_token, new_id, now_ms
from keel.core.naming import validate_key, validate_name
from keel.errors import AlreadyExists, ExperimentNotFound, InvalidArgument
from keel.tracking.models import Experiment, LifecycleStage, ViewType
from keel.tracking.store import ExperimentStore

DEFAULT_EXPERIMENT = "Default"
MAX_TAG_VALUE_BYTES = 64 * 1024


def validate_tags(tags: Mapping[str, object] | None) -> dict[str, str]:
    """Tag keys are keys; values are strings (other scalars are converted) of at most 64 KiB."""
    out: dict[str, str] = {}
    for key, value in (tags or {}).items():
        validate_key(key, "tag key")
        text = value if isinstance(value, str) else str(value)
        if len(text.encode("utf-8", "surrogatepass")) > MAX_TAG_VALUE_BYTES:
            raise InvalidArgument(
                f"tag {key!r} value is longer than {MAX_TAG_VALUE_BYTES} bytes",
                details={"field": "tag value", "key": key},
            )
        if "\x00" in text:
            raise InvalidArgument(f"tag {key!r} value contains a NUL character")
        out[key] = text
    return out


class ExperimentService:
    def __init__(self, store: ExperimentStore) -> None:
        self._store = store

    def create_experiment(
        self,
        name: str,
        *,
        tags: Mapping[str, object] | None = None,
        artifact_location: str | None = None,
    ) -> Experiment:
        """A new experiment. ``artifact_location`` is a prefix inside the configured artifact
        store (never a URL elsewhere); by default the experiment's id."""
        validate_name(name, "experiment name")
        experiment_id = new_id()
        location = safe_key(artifact_location) if artifact_location else experiment_id
        return self._store.create_experiment(
            experiment_id, name, location, validate_tags(tags), now_ms()
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment:
        experiment = self._store.find_experiment_by_name(name)
        if experiment is None:
            raise ExperimentNotFound(f"no experiment named {name!r}", details={"name": name})
        return experiment

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.find_experiment_by_name(name)

    def resolve(self, ref: str | Experiment) -> Experiment:
        """An experiment by object, name or id (names are tried first)."""
        if isinstance(ref, Experiment):
            return ref
        found = self._store.find_experiment_by_name(ref)
        if found is not None:
            return found
        try:
            return self._store.get_experiment(ref)
        except ExperimentNotFound:
            raise ExperimentNotFound(
                f"no experiment with id or name {ref!r}", details={"experiment": ref}
            ) from None

    def resolve_or_create(self, ref: str | Experiment) -> Experiment:
        """As ``resolve``, but a name that names nothing yet becomes a new experiment."""
        try:
            return self.resolve(ref)
        except ExperimentNotFound:
            assert isinstance(ref, str)
            return self.get_or_create_experiment(ref)

    def get_or_create_experiment(self, name: str) -> Experiment:
        found = self._store.find_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage is LifecycleStage.DELETED:
                raise InvalidArgument(
                    f"experiment {name!r} is deleted; restore it or choose another name",
                    details={"experiment_id": found.experiment_id},
                )
            return found
        try:
            return self.create_experiment(name)
        except AlreadyExists:
            # Another process created it between our lookup and our insert.
            found = self._store.find_experiment_by_name(name)
            if found is None:
                raise
            return found

    def list_experiments(
        self,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        if max_results < 1 or max_results > 50_000:
            raise InvalidArgument(f"max_results must be between 1 and 50000, got {max_results}")
        offset = decode_page_token(page_token)
        return self._store.list_experiments(ViewType(view), name_like, tags, max_results, offset)

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        validate_name(new_name, "experiment name")
        return self._store.rename_experiment(experiment_id, new_name, now_ms())

    def set_experiment_tag(self, experiment_id: str, key: str, value: object) -> None:
        self._store.set_experiment_tags(experiment_id, validate_tags({key: value}), now_ms())

    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, object]) -> None:
        self._store.set_experiment_tags(experiment_id, validate_tags(tags), now_ms())

    def delete_experiment(self, experiment_id: str) -> Experiment:
        return self._store.set_experiment_stage(experiment_id, LifecycleStage.DELETED, now_ms())

    def restore_experiment(self, experiment_id: str) -> Experiment:
        return self._store.set_experiment_stage(experiment_id, LifecycleStage.ACTIVE, now_ms())
