"""Governance: model cards, datasheets and decision logs, derived from what keel recorded.

``GovernanceService(registry, approvals, runs, datasets)`` builds a :class:`ModelCard` per
registered version and a :class:`Datasheet` per dataset version; ``keel.governance.render``
turns them into Markdown (with YAML front matter), standalone HTML and JSON-able dicts.
"""

from keel.governance.cards import GovernanceService, split_metrics
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
from keel.governance.render import (
    card_to_dict,
    card_to_html,
    card_to_markdown,
    datasheet_to_dict,
    datasheet_to_html,
    datasheet_to_markdown,
)

__all__ = [
    "HUMAN_FIELDS",
    "SLICE_SEPARATOR",
    "CardDataset",
    "CardMetrics",
    "ColumnStats",
    "DatasetUsage",
    "Datasheet",
    "GovernanceService",
    "Lineage",
    "MetricSlice",
    "ModelCard",
    "ModelDetails",
    "ModelUsage",
    "PerformanceRow",
    "card_to_dict",
    "card_to_html",
    "card_to_markdown",
    "datasheet_to_dict",
    "datasheet_to_html",
    "datasheet_to_markdown",
    "split_metrics",
]
