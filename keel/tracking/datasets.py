"""Dataset versions: content-addressed, profiled, and linked to the runs that used them."""

from __future__ import annotations

from pathlib import Path

from keel.core import Page, decode_page_token, new_id, now_ms
from keel.core.naming import validate_key, validate_name
from keel.errors import DatasetNotFound, InvalidArgument
from keel.tracking.models import DatasetVersion, RunInput
from keel.tracking.store import DatasetStore, RunStore


class DatasetService:
    def __init__(self, store: DatasetStore, runs: RunStore) -> None:
        self._store = store
        self._runs = runs

    def log_dataset(
        self,
        data: object,
        *,
        name: str | None = None,
        run_id: str | None = None,
        context: str = "train",
        source: str | None = None,
    ) -> DatasetVersion:
        """Version ``data`` under ``name`` (the same content reuses its version) and, with a
        ``run_id``, record that the run used it in ``context``."""
        from keel.tracking._datasets import describe_dataset

        validate_key(context, "dataset context")
        if name is None:
            if isinstance(data, (str, Path)):
                name = Path(data).stem or "dataset"
            else:
                raise InvalidArgument("log_dataset needs a name for in-memory data")
        validate_name(name, "dataset name")
        if run_id is not None:
            self._runs.get_run(run_id)  # RunNotFound before any work
        description = describe_dataset(data, source=source)
        version, _created = self._store.get_or_create_dataset_version(
            new_id(), name, description, now_ms()
        )
        if run_id is not None:
            self._store.log_run_inputs(run_id, [(version.dataset_version_id, context)])
        return version

    def get_dataset_version(self, ref: str) -> DatasetVersion:
        """By id, or as 'name:version' / 'name@latest'."""
        if ":" in ref:
            name, _, number = ref.rpartition(":")
            if not number.isdigit():
                raise InvalidArgument(f"dataset reference {ref!r}: version must be a number")
            found = self._store.find_dataset_version(name, int(number))
            if found is None:
                raise DatasetNotFound(f"dataset {name!r} has no version {number}")
            return found
        if ref.endswith("@latest"):
            name = ref[: -len("@latest")]
            page = self._store.list_dataset_versions(name, 1, 0)
            if not page.items:
                raise DatasetNotFound(f"no dataset named {name!r}")
            return page.items[0]
        return self._store.get_dataset_version(ref)

    def list_dataset_versions(
        self, name: str | None = None, *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        return self._store.list_dataset_versions(name, max_results, decode_page_token(page_token))

    def list_dataset_runs(self, ref: str) -> list[RunInput]:
        """Which runs used this dataset version, and in which context."""
        return self._store.list_dataset_runs(self.get_dataset_version(ref).dataset_version_id)

    def list_run_inputs(self, run_id: str) -> list[RunInput]:
        return self._store.list_run_inputs(run_id)
