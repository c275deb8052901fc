"""Building model cards and datasheets from what keel recorded.

:class:`GovernanceService` reads the registry (versions, aliases, approvals, gate evaluations,
card fields, decisions), the version's run (params, lineage) and the dataset versions the run
used (schema, profile). Nothing on a card is typed in except the human fields of
:class:`keel.registry.CardFields`; a missing one is a gap, listed in ``ModelCard.gaps``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any

from keel.core import now_ms
from keel.errors import InvalidArgument, NotFound
from keel.governance.models import (
    HUMAN_FIELDS,
    SLICE_SEPARATOR,
    CardDataset,
    CardMetrics,
    ColumnStats,
    DatasetUsage,
    Datasheet,
    Lineage,
    MetricSlice,
    ModelCard,
    ModelDetails,
    ModelUsage,
    PerformanceRow,
)
from keel.registry import CardFields, ModelVersion
from keel.registry.approvals import ApprovalService
from keel.registry.registry import RegistryService
from keel.tracking import DatasetVersion, Run
from keel.tracking.datasets import DatasetService
from keel.tracking.runs import RunService

__all__ = ["GovernanceService", "column_stats", "split_metrics"]

_PLAIN = (str, int, float, bool, type(None))


class GovernanceService:
    """Model cards and datasheets, derived from the registry and tracking services."""

    def __init__(
        self,
        registry: RegistryService,
        approvals: ApprovalService,
        runs: RunService,
        datasets: DatasetService,
    ) -> None:
        self._registry = registry
        self._approvals = approvals
        self._runs = runs
        self._datasets = datasets

    # -- model cards ----------------------------------------------------------------------

    def model_card(self, name: str, version: int | None = None) -> ModelCard:
        """The card of ``version`` of ``name`` (the newest version when None)."""
        reg = self._registry
        versions = sorted(self._all_versions(name), key=lambda v: v.version)
        if version is None:
            if not versions:
                raise InvalidArgument(f"{name} has no versions to describe")
            version = versions[-1].version
        mv = reg.get_model_version(name, version)
        model = reg.get_registered_model(name)
        notes: list[str] = []
        run = self._find_run(mv, notes)
        tags = {**model.tags, **mv.tags}
        details = ModelDetails(
            name=mv.name, version=mv.version, uri=mv.uri,
            description=mv.description or model.description,
            owner=model.created_by, registered_by=mv.created_by,
            model_created_at=model.created_at, version_created_at=mv.created_at,
            version_updated_at=mv.updated_at, flavor=mv.flavor, model_digest=mv.model_digest,
            source=mv.source, code_commit=mv.code_commit, signature=mv.signature, tags=tags,
            aliases=mv.aliases, license=tags.get("license"),
        )
        lineage = Lineage(
            run_id=mv.run_id, run_name=run.name if run else None,
            experiment_id=run.experiment_id if run else None,
            parent_run_id=run.parent_run_id if run else None, source=mv.source,
            code_commit=mv.code_commit, model_digest=mv.model_digest,
            dataset_version_ids=mv.dataset_version_ids,
        )
        model_fields = reg.card_fields(name)
        human = reg.card_fields(name, version)
        sources = {
            f: ("model" if getattr(model_fields, f) == getattr(human, f) else "version")
            for f in HUMAN_FIELDS
            if _written(getattr(human, f))
        }
        return ModelCard(
            details=details,
            params=_params(run),
            datasets=tuple(self._card_datasets(mv, notes)),
            metrics=split_metrics(mv.metrics),
            lineage=lineage,
            approvals=tuple(self._approvals.list_approvals(name, version)),
            gate_evaluations=tuple(self._approvals.gate_history(name, version)),
            alias_history=tuple(reg.alias_history(name)),
            performance_history=tuple(
                PerformanceRow(v.version, v.created_at, v.aliases,
                               split_metrics(v.metrics).overall)
                for v in versions
            ),
            human=human,
            human_sources=sources,
            gaps=tuple(f for f in HUMAN_FIELDS if not _written(getattr(human, f))),
            decisions=tuple(
                d for d in reg.list_decisions(name) if d.version is None or d.version == version
            ),
            notes=tuple(notes),
            generated_at=now_ms(),
        )

    def update_card_fields(
        self,
        name: str,
        updates: Mapping[str, str | None],
        *,
        version: int | None = None,
        actor: str | None = None,
    ) -> CardFields:
        """Change some human fields of the model (or of one version, as overrides), keeping the
        others; an empty or None value clears the field. InvalidArgument for an unknown field."""
        unknown = sorted(set(updates) - set(HUMAN_FIELDS))
        if unknown:
            raise InvalidArgument(
                f"unknown card field(s) {', '.join(unknown)}; known: {', '.join(HUMAN_FIELDS)}",
                details={"unknown": unknown},
            )
        current = self._registry.stored_card_fields(name, version)
        merged = {f.name: getattr(current, f.name) for f in fields(current)}
        merged.update({k: (v if _written(v) else None) for k, v in updates.items()})
        return self._registry.set_card_fields(name, CardFields(**merged), version=version,
                                              actor=actor)

    def _all_versions(self, name: str) -> Iterator[ModelVersion]:
        token: str | None = None
        while True:
            page = self._registry.list_model_versions(name, max_results=500, page_token=token)
            yield from page.items
            token = page.next_page_token
            if not token:
                return

    def _find_run(self, mv: ModelVersion, notes: list[str]) -> Run | None:
        if mv.run_id is None:
            return None
        try:
            return self._runs.get_run(mv.run_id)
        except NotFound:
            notes.append(f"run {mv.run_id} is no longer in the tracking store")
            return None

    def _card_datasets(self, mv: ModelVersion, notes: list[str]) -> Iterator[CardDataset]:
        contexts: dict[str, list[str]] = {}
        if mv.run_id is not None:
            for usage in self._datasets.list_run_inputs(mv.run_id):
                contexts.setdefault(usage.dataset_version_id, []).append(usage.context)
        for dataset_version_id in mv.dataset_version_ids:
            try:
                dv = self._datasets.get_dataset_version(dataset_version_id)
            except NotFound:
                notes.append(f"dataset version {dataset_version_id} is no longer stored")
                continue
            for context in sorted(contexts.get(dataset_version_id, ["unknown"])):
                yield CardDataset(
                    dataset_version_id=dv.dataset_version_id, name=dv.name, version=dv.version,
                    context=context, digest=dv.digest, num_rows=dv.num_rows, source=dv.source,
                    created_at=dv.created_at, columns=column_stats(dv),
                )

    # -- datasheets -----------------------------------------------------------------------

    def datasheet(self, dataset_ref: str) -> Datasheet:
        """The datasheet of a dataset version: by id, ``name:version`` or ``name@latest``."""
        dv = self._datasets.get_dataset_version(dataset_ref)
        usages = self._datasets.list_dataset_runs(dv.dataset_version_id)
        splits: dict[str, int] = {}
        for usage in usages:
            splits[usage.context] = splits.get(usage.context, 0) + 1
        models: list[ModelUsage] = []
        token: str | None = None
        while True:
            page = self._registry.list_model_versions(
                dataset_version_id=dv.dataset_version_id, max_results=500, page_token=token
            )
            models += [ModelUsage(v.name, v.version, v.aliases, v.run_id) for v in page.items]
            token = page.next_page_token
            if not token:
                break
        others = [
            (o.version, o.digest, o.num_rows, o.created_at)
            for o in self._datasets.list_dataset_versions(dv.name).items
            if o.dataset_version_id != dv.dataset_version_id
        ]
        return Datasheet(
            dataset_version_id=dv.dataset_version_id, name=dv.name, version=dv.version,
            digest=dv.digest, source=dv.source, created_at=dv.created_at, num_rows=dv.num_rows,
            columns=column_stats(dv), profile=dv.profile, splits=dict(sorted(splits.items())),
            runs=tuple(DatasetUsage(u.run_id, u.context) for u in usages),
            models=tuple(sorted(models, key=lambda m: (m.name, m.version))),
            other_versions=tuple(others), generated_at=now_ms(),
        )


def split_metrics(metrics: Mapping[str, float]) -> CardMetrics:
    """Overall metrics and per-slice ones (``auc/segment=a``; see SLICE_SEPARATOR)."""
    overall: dict[str, float] = {}
    slices: dict[str, dict[str, float]] = {}
    for key, value in sorted(metrics.items()):
        metric, sep, label = key.rpartition(SLICE_SEPARATOR)
        if sep and metric and "=" in label:
            slices.setdefault(label, {})[metric] = value
        else:
            overall[key] = value
    return CardMetrics(
        overall=overall,
        slices=tuple(MetricSlice(label, values) for label, values in sorted(slices.items())),
    )


def column_stats(dv: DatasetVersion) -> tuple[ColumnStats, ...]:
    """The schema with the headline numbers of the profile, one entry per column."""
    out = []
    for column in dv.columns:
        p: Mapping[str, Any] = dv.profile.get(column.name, {})
        out.append(ColumnStats(
            name=column.name, type=column.type, nullable=column.nullable,
            count=p.get("count"), null_fraction=p.get("null_fraction"), min=p.get("min"),
            max=p.get("max"), mean=p.get("mean"), std=p.get("std"), distinct=p.get("distinct"),
        ))
    return tuple(out)


def _params(run: Run | None) -> dict[str, Any]:
    if run is None:
        return {}
    out: dict[str, Any] = {}
    for key, param in sorted(run.params.items()):
        value = param.value
        out[key] = value if isinstance(value, _PLAIN) else param.text
    return out


def _written(text: str | None) -> bool:
    return bool(text and text.strip())
