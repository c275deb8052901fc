"""Shared builders: register versions of ``churn`` from real runs with datasets and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from keel import Keel
from keel.registry import ModelVersion


def register_version(
    client: Keel, *, auc: float, seed: int = 0, name: str = "churn"
) -> ModelVersion:
    """A version of ``name`` from a run with params, a train and a test dataset, an overall
    ``auc`` and per-slice ``auc/segment=a|b`` metrics."""
    rng = np.random.default_rng(seed)
    train = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    test = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    model = LogisticRegression(C=0.5).fit(train, (train.a + train.b > 0).astype(int))
    run = client.create_run("churn-training", capture=False)
    client.runs.log_params(run.run_id, {"C": 0.5, "penalty": "l2"})
    client.datasets.log_dataset(train, name="churn-train", run_id=run.run_id, context="train")
    client.datasets.log_dataset(test, name="churn-test", run_id=run.run_id, context="test")
    client.runs.log_metrics(
        run.run_id, {"auc": auc, "auc/segment=a": auc - 0.05, "auc/segment=b": auc + 0.02}
    )
    info = client.log_model(run.run_id, model, "model", input_example=train.head(5))
    client.runs.end_run(run.run_id)
    return client.registry.register_model(info.uri, name, actor="alice")
