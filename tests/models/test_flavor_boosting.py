"""XGBoost and LightGBM in their native formats: wrappers and raw boosters."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from numpy.testing import assert_array_equal

from keel.models import load_model_from_directory, save_model
from keel.models.spec import read_spec


@pytest.mark.parametrize("xgb_format", ["ubj", "json"])
def test_an_xgb_classifier_round_trips_with_labels_and_probabilities(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray], xgb_format: str
) -> None:
    frame, label = classification
    model = xgb.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1).fit(frame, label)
    spec = save_model(model, tmp_path / "m", input_example=frame.head(), xgb_format=xgb_format)
    assert spec.flavor == "xgboost" and spec.format == f"xgboost-{xgb_format}"
    assert spec.flavor_config["estimator"] == "XGBClassifier"
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(frame), model.predict(frame))
    assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))


def test_a_raw_xgboost_booster_round_trips(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    booster = xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(x, label=y), 8)
    save_model(booster, tmp_path / "b", input_example=x[:4])
    loaded = load_model_from_directory(tmp_path / "b")
    assert_array_equal(loaded.predict(x), booster.predict(xgb.DMatrix(x)))
    assert not loaded.has_predict_proba


def test_an_xgb_regressor_fitted_on_arrays_takes_a_frame_by_position(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    model = xgb.XGBRegressor(n_estimators=5, n_jobs=1).fit(x, y)
    save_model(model, tmp_path / "r", input_example=x[:2])
    loaded = load_model_from_directory(tmp_path / "r")
    assert_array_equal(loaded.predict(pd.DataFrame(x)), model.predict(x))


def test_an_lgbm_classifier_round_trips_with_its_classes(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = classification
    names = np.array(["no", "yes"])[label]  # string labels: the classes must survive
    model = lgb.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1, n_jobs=1).fit(
        frame, names
    )
    spec = save_model(model, tmp_path / "m", input_example=frame.head())
    assert spec.format == "lightgbm-text" and spec.flavor_config["classes"] == ["no", "yes"]
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(frame), model.predict(frame))
    assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))


def test_a_multiclass_lgbm_classifier_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(150, 3))
    y = np.digitize(x[:, 0] + x[:, 1], [-0.5, 0.5])  # three classes
    model = lgb.LGBMClassifier(n_estimators=8, verbose=-1, n_jobs=1).fit(x, y)
    save_model(model, tmp_path / "m", input_example=x[:2])
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(x), model.predict(x))
    assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_a_raw_lightgbm_booster_round_trips(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    booster = lgb.train(
        {"objective": "regression", "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, label=y), num_boost_round=8,
    )
    save_model(booster, tmp_path / "b")
    assert read_spec(tmp_path / "b").flavor_config["estimator"] == "Booster"
    loaded = load_model_from_directory(tmp_path / "b")
    assert_array_equal(loaded.predict(x), booster.predict(x))
    assert not loaded.has_predict_proba
