"""Runs as a pandas DataFrame: one row per run, ``params.*``, ``metrics.*``, ``tags.*`` columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from keel.tracking.models import Run

if TYPE_CHECKING:
    import pandas as pd


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for run in runs:
        row: dict[str, object] = {
            "run_id": run.run_id,
            "experiment_id": run.experiment_id,
            "run_name": run.name,
            "status": run.status.value,
            "start_time": pd.Timestamp(run.start_time, unit="ms", tz="UTC"),
            "end_time": (
                pd.Timestamp(run.end_time, unit="ms", tz="UTC") if run.end_time else pd.NaT
            ),
            "parent_run_id": run.parent_run_id,
            "user": run.user,
        }
        row.update({f"metrics.{k}": m.value for k, m in sorted(run.metrics.items())})
        row.update({f"params.{k}": p.value for k, p in sorted(run.params.items())})
        row.update({f"tags.{k}": v for k, v in sorted(run.tags.items())})
        rows.append(row)
    base = ["run_id", "experiment_id", "run_name", "status", "start_time", "end_time",
            "parent_run_id", "user"]
    return pd.DataFrame(rows, columns=None if rows else base)
