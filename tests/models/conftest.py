from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_classification(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three float columns and one int column; the label depends on all of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.normal(size=n),
        "c": rng.normal(size=n),
        "n": rng.integers(0, 5, size=n),
    })
    logit = frame["a"] + 0.5 * frame["b"] - frame["c"] + 0.3 * frame["n"] - 0.6
    label = (logit + rng.normal(scale=0.3, size=n) > 0).astype(np.int64).to_numpy()
    return frame, label


def make_regression(
    n: int = 200, features: int = 4, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x @ np.arange(1, features + 1, dtype=np.float32) + rng.normal(size=n)).astype(np.float32)
    return x, y


@pytest.fixture
def classification() -> tuple[pd.DataFrame, np.ndarray]:
    return make_classification()


@pytest.fixture
def regression() -> tuple[np.ndarray, np.ndarray]:
    return make_regression()
