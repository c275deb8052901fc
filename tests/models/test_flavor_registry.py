"""Flavor discovery: built-ins through the entry-point table, plugins through the same hook."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LinearRegression

from keel.errors import InvalidArgument
from keel.models import FlavorRegistry, load_model_from_directory, save_model
from keel.models.flavors import BUILTIN_FLAVORS, default_flavors
from tests.models._tiny_flavor import LinearRule, TinyFlavor

TINY = EntryPoint(
    name="tiny", value="tests.models._tiny_flavor:TinyFlavor", group="keel.model_flavors"
)


def test_a_plugin_flavor_from_an_entry_point_saves_and_loads(tmp_path: Path) -> None:
    registry = FlavorRegistry.from_entry_points([TINY])
    assert registry.names[0] == "tiny"  # plugins are asked first
    spec = save_model(LinearRule([1.0, 2.0], 0.5), tmp_path / "m", flavors=registry,
                      input_example=np.ones((2, 2)))
    assert spec.flavor == "tiny" and spec.files.keys() == {"rule.json", "input_example.npy"}
    loaded = load_model_from_directory(tmp_path / "m", flavors=registry)
    assert_array_equal(loaded.predict(np.array([[1.0, 1.0]])), np.array([3.5]))
    with pytest.raises(InvalidArgument, match=r"known flavors: .*sklearn"):
        load_model_from_directory(tmp_path / "m")  # the default registry has no 'tiny'


def test_register_adds_a_flavor_instance_first() -> None:
    registry = FlavorRegistry.from_entry_points([])
    registry.register(TinyFlavor())
    assert registry.for_model(LinearRule([1.0], 0.0)).name == "tiny"


def test_an_entry_point_named_like_a_builtin_replaces_it_in_place() -> None:
    replaced = EntryPoint(
        name="sklearn", value="tests.models._tiny_flavor:TinyFlavor", group="keel.model_flavors"
    )
    registry = FlavorRegistry.from_entry_points([replaced])
    assert registry.names == list(BUILTIN_FLAVORS)
    assert registry.get("sklearn").name == "tiny"


def test_the_installed_registry_has_every_builtin_and_matches_by_type() -> None:
    registry = default_flavors()
    assert set(BUILTIN_FLAVORS) <= set(registry.names)
    assert registry.for_model(LinearRegression()).name == "sklearn"


def test_an_unknown_flavor_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"known flavors: lightgbm, onnx, pickle"):
        save_model(LinearRegression(), tmp_path / "m", flavor="catboost")


def test_an_unrecognised_model_suggests_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="PythonModel"):
        save_model(object(), tmp_path / "m")


def test_something_that_is_not_a_flavor_is_refused() -> None:
    bogus = EntryPoint(name="bogus", value="builtins:dict", group="keel.model_flavors")
    registry = FlavorRegistry.from_entry_points([bogus])
    with pytest.raises(InvalidArgument, match="Flavor protocol"):
        registry.get("bogus")


def test_importing_keel_models_imports_no_framework() -> None:
    heavy = ["sklearn", "torch", "xgboost", "lightgbm", "onnxruntime", "onnx", "skops",
             "pandas", "numpy", "polars", "safetensors", "cloudpickle"]
    code = (
        "import sys, keel.errors, keel.models\n"
        "try: keel.models.default_flavors().for_model(1)\n"  # loads every flavor module
        "except keel.errors.InvalidArgument: pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_framework_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from keel.errors import MissingDependency
    from keel.models.flavors.base import require

    monkeypatch.setitem(sys.modules, "lightgbm", None)  # makes `import lightgbm` fail
    with pytest.raises(MissingDependency, match=r"keelml\[lightgbm\]"):
        require("lightgbm", extra="lightgbm")
