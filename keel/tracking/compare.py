"""Side-by-side comparison of runs: params, final and best metrics, aligned histories."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from keel.errors import InvalidArgument
from keel.tracking.models import Metric, Run

if TYPE_CHECKING:
    import pandas as pd

    from keel.tracking.runs import RunService

Goal = Literal["min", "max"]
_LOWER_IS_BETTER = ("loss", "error", "err", "mae", "mse", "rmse", "mape", "perplexity", "cost")


def infer_goal(key: str) -> Goal:
    """'min' for keys that name an error or a loss (val_loss, rmse, error_rate), else 'max'."""
    parts = key.lower().replace("/", "_").replace("-", "_").replace(".", "_").split("_")
    return "min" if any(p in _LOWER_IS_BETTER or p.endswith("loss") for p in parts) else "max"


@dataclass(frozen=True)
class CompareRow:
    """One param or metric across runs; ``values`` follows ``RunComparison.runs``."""

    kind: str  # "param", "metric.final" or "metric.best"
    key: str
    values: tuple[object, ...]
    differs: bool


@dataclass(frozen=True)
class RunComparison:
    runs: tuple[Run, ...]
    rows: tuple[CompareRow, ...]
    histories: Mapping[str, Mapping[str, Sequence[Metric]]]
    """metric key -> run id -> points ordered by step."""

    @property
    def labels(self) -> tuple[str, ...]:
        names = [r.name for r in self.runs]
        return tuple(
            n if names.count(n) == 1 else f"{n} ({r.run_id[:8]})"
            for n, r in zip(names, self.runs, strict=True)
        )

    def to_frame(self) -> pd.DataFrame:
        """Rows (kind, key) by one column per run, plus a boolean ``differs`` column."""
        import pandas as pd

        index = pd.MultiIndex.from_tuples(
            [(r.kind, r.key) for r in self.rows], names=["kind", "key"]
        )
        frame = pd.DataFrame([list(r.values) for r in self.rows], index=index, columns=self.labels)
        frame["differs"] = [r.differs for r in self.rows]
        return frame

    def history_frame(self, key: str) -> pd.DataFrame:
        """One metric's history aligned by step: index step, one column per run (NaN where a
        run has no point at that step; the last point per step wins)."""
        import pandas as pd

        if key not in self.histories:
            raise InvalidArgument(
                f"no metric {key!r} in these runs; known: {', '.join(sorted(self.histories))}"
            )
        columns = {}
        for label, run in zip(self.labels, self.runs, strict=True):
            points = self.histories[key].get(run.run_id, [])
            columns[label] = pd.Series({p.step: p.value for p in points}, dtype="float64")
        frame = pd.DataFrame(columns).sort_index()
        frame.index.name = "step"
        return frame


def _same(values: Sequence[object]) -> bool:
    def norm(v: object) -> object:
        return "nan" if isinstance(v, float) and math.isnan(v) else v

    return len({repr(norm(v)) for v in values}) <= 1


def build_comparison(
    runs: Sequence[Run],
    histories: Mapping[str, Mapping[str, Sequence[Metric]]],
    goals: Mapping[str, Goal] | None = None,
) -> RunComparison:
    goals = dict(goals or {})
    rows: list[CompareRow] = []
    param_keys = sorted({k for r in runs for k in r.params})
    for key in param_keys:
        values = tuple(r.params[key].value if key in r.params else None for r in runs)
        rows.append(CompareRow("param", key, values, not _same(values)))
    for key in sorted({k for r in runs for k in r.metrics}):
        finals = tuple(r.metrics[key].value if key in r.metrics else None for r in runs)
        rows.append(CompareRow("metric.final", key, finals, not _same(finals)))
        if all(len(histories.get(key, {}).get(r.run_id, [])) <= 1 for r in runs):
            continue  # a single point per run: best is the final value, no row of its own
        goal = goals.get(key) or infer_goal(key)
        bests: list[float | None] = []
        for r in runs:
            points = histories.get(key, {}).get(r.run_id, [])
            finite = [p.value for p in points if not math.isnan(p.value)]
            bests.append((min(finite) if goal == "min" else max(finite)) if finite else None)
        rows.append(CompareRow(f"metric.best ({goal})", key, tuple(bests), not _same(bests)))
    return RunComparison(tuple(runs), tuple(rows), histories)


def compare_runs(
    runs: RunService, run_ids: Sequence[str | Run], goals: Mapping[str, Goal] | None = None
) -> RunComparison:
    """Read the runs and every metric history they have, then :func:`build_comparison`."""
    if len(run_ids) < 1:
        raise InvalidArgument("compare_runs needs at least one run")
    runs.flush()
    found = [runs.get_run(r.run_id if isinstance(r, Run) else r) for r in run_ids]
    histories: dict[str, dict[str, list[Metric]]] = {}
    for run in found:
        for key in run.metrics:
            histories.setdefault(key, {})[run.run_id] = runs.get_metric_history(run.run_id, key)
    return build_comparison(found, histories, goals)
