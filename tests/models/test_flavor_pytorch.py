"""PyTorch: weights only (safetensors or torch.save) and TorchScript."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from keel.errors import InvalidArgument
from keel.models import load_model_from_directory, save_model
from keel.models.spec import read_spec
from tests.models._nets import TinyNet


def _trained(x: np.ndarray, y: np.ndarray) -> TinyNet:
    torch.manual_seed(0)
    net = TinyNet(in_features=x.shape[1])
    optimiser = torch.optim.SGD(net.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).unsqueeze(1)
    for _ in range(20):
        optimiser.zero_grad()
        torch.nn.functional.mse_loss(net(xt), yt).backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    return net.eval()


def _expected(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        out: np.ndarray = net(torch.from_numpy(x)).numpy()
    return out


@pytest.mark.parametrize("weights_format", ["safetensors", "pt"])
def test_a_state_dict_round_trips_by_architecture_reference(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray], weights_format: str
) -> None:
    x, y = regression
    net = _trained(x, y)
    spec = save_model(
        net, tmp_path / "m", input_example=x[:4], torch_init={"in_features": 4},
        weights_format=weights_format,
    )
    assert spec.flavor_config["module"] == "tests.models._nets:TinyNet"
    assert spec.flavor_config["torch_init"] == {"in_features": 4}
    assert spec.format == f"torch-state-dict-{weights_format}" and not spec.pickle
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(x), _expected(net, x))
    # float64 input is cast to the signature's float32, as the module computes in float32
    assert_array_equal(loaded.predict(x.astype(np.float64)), _expected(net, x))


def test_wrong_constructor_arguments_are_refused_when_saving(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    with pytest.raises(InvalidArgument, match="torch_init"):
        save_model(_trained(x, y), tmp_path / "m", torch_init={"in_features": 5})
    assert not (tmp_path / "m").exists()


def test_a_module_defined_in_a_function_needs_torchscript(tmp_path: Path) -> None:
    class Local(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    with pytest.raises(InvalidArgument, match="torchscript"):
        save_model(Local(), tmp_path / "m")
    save_model(Local(), tmp_path / "s", torch_format="torchscript")
    loaded = load_model_from_directory(tmp_path / "s")
    assert_array_equal(loaded.predict(np.ones((2, 3), dtype=np.float32)), np.full((2, 3), 2.0))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_round_trips(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    net = _trained(x, y)
    scripted = torch.jit.script(net)
    spec = save_model(scripted, tmp_path / "m", input_example=x[:4])
    assert spec.format == "torchscript"
    assert read_spec(tmp_path / "m").signature is not None
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(x), _expected(net, x))


def test_a_tensor_of_the_wrong_shape_is_refused(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    save_model(_trained(x, y), tmp_path / "m", input_example=x[:4], torch_init={"in_features": 4})
    loaded = load_model_from_directory(tmp_path / "m")
    with pytest.raises(InvalidArgument, match=r"expected shape \(-1, 4\), got \(3, 5\)"):
        loaded.predict(np.zeros((3, 5), dtype=np.float32))
    # one sample without its batch dimension gets one
    assert loaded.predict(x[0]).shape == (1, 1)
