"""Signatures: inference, the YAML form, and how predict input is checked and cast."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.errors import InvalidArgument
from keel.models import ColumnSpec, Signature, infer_signature, prepare_input


def _sig(*specs: ColumnSpec) -> Signature:
    return Signature(inputs=specs)


# -- inference ---------------------------------------------------------------------------------


def test_a_frame_gives_named_columns_with_dtypes_and_nullability() -> None:
    frame = pd.DataFrame({
        "age": [30, 40], "income": [1.5, np.nan], "city": ["a", None], "member": [True, False],
        "when": pd.to_datetime(["2024-01-01", "2024-01-02"]), "kind": pd.Categorical(["x", "y"]),
    })
    sig = infer_signature(frame)
    assert sig.kind == "columns"
    assert sig.to_dict()["inputs"] == [
        {"name": "age", "dtype": "int64"},
        {"name": "income", "dtype": "float64", "nullable": True},
        {"name": "city", "dtype": "string", "nullable": True},
        {"name": "member", "dtype": "bool"},
        {"name": "when", "dtype": "datetime"},
        {"name": "kind", "dtype": "category"},
    ]


@pytest.mark.parametrize(
    "example",
    [
        {"a": [1, 2], "s": ["x", "y"]},
        [{"a": 1, "s": "x"}, {"a": 2, "s": "y"}],
        pl.DataFrame({"a": [1, 2], "s": ["x", "y"]}),
        np.array([(1, "x"), (2, "y")], dtype=[("a", "i8"), ("s", "U1")]),
    ],
    ids=["dict", "records", "polars", "structured"],
)
def test_every_columnar_kind_gives_the_same_signature(example: Any) -> None:
    assert infer_signature(example) == _sig(
        ColumnSpec("a", "int64"), ColumnSpec("s", "string")
    )


def test_arrays_give_a_tensor_signature_with_a_free_batch_dimension() -> None:
    sig = infer_signature(np.zeros((5, 3, 2), dtype=np.float32), output=np.zeros(5))
    assert sig.kind == "tensor"
    assert sig.inputs == (ColumnSpec(None, "float32", (-1, 3, 2)),)
    assert sig.outputs == (ColumnSpec(None, "float64", (-1,)),)
    named = infer_signature(
        {"ids": np.zeros((4, 7), dtype=np.int64), "mask": np.ones((4, 7), bool)}
    )
    assert [c.name for c in named.inputs] == ["ids", "mask"] and named.kind == "tensor"
    assert infer_signature([[1.0, 2.0], [3.0, 4.0]]).inputs[0].shape == (-1, 2)


def test_the_dict_form_round_trips() -> None:
    sig = Signature(
        inputs=(ColumnSpec("a", "int32", optional=True), ColumnSpec("b", "string", nullable=True)),
        outputs=(ColumnSpec(None, "float64", (-1,)),),
    )
    assert Signature.from_dict(sig.to_dict()) == sig
    tensor = Signature(inputs=(ColumnSpec("x", "float32", (-1, 4)),), kind="tensor")
    assert Signature.from_dict(tensor.to_dict()) == tensor


def test_malformed_signatures_are_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"unknown dtype 'float'.*known: bool"):
        ColumnSpec("a", "float")
    with pytest.raises(InvalidArgument, match="needs a shape"):
        Signature(inputs=(ColumnSpec("x", "float32"),), kind="tensor")
    with pytest.raises(InvalidArgument, match="duplicate input names in signature: a"):
        _sig(ColumnSpec("a", "int64"), ColumnSpec("a", "float64"))
    with pytest.raises(InvalidArgument, match="cannot infer a signature"):
        infer_signature(42)


# -- enforcement -------------------------------------------------------------------------------

SIG = _sig(
    ColumnSpec("age", "int64"), ColumnSpec("income", "float64"), ColumnSpec("city", "string")
)
ROW = {"age": [30], "income": [1.5], "city": ["x"]}


def test_a_missing_column_is_named_with_its_expected_dtype() -> None:
    with pytest.raises(InvalidArgument, match=r"missing column 'income' \(float64\)") as caught:
        prepare_input(SIG, {"age": [30], "city": ["x"]})
    assert caught.value.details["column"] == "income"
    assert caught.value.details["expected"] == "float64"


def test_a_string_in_a_float_column_is_refused_naming_the_column() -> None:
    with pytest.raises(
        InvalidArgument, match=r"column 'income': expected float64, got string"
    ) as caught:
        prepare_input(SIG, {**ROW, "income": ["1.5"]})
    assert caught.value.details == {"column": "income", "expected": "float64", "got": "string"}


def test_numbers_never_become_strings() -> None:
    with pytest.raises(InvalidArgument, match="column 'city': expected string, got int64"):
        prepare_input(SIG, {**ROW, "city": [3]})


def test_int_is_cast_to_float_and_extra_columns_are_dropped() -> None:
    out = prepare_input(SIG, {"extra": [1], **ROW, "income": [2]})
    assert list(out.columns) == ["age", "income", "city"]
    assert out["income"].dtype == np.float64 and out["income"].iloc[0] == 2.0


def test_floats_are_never_cast_to_integers() -> None:
    with pytest.raises(InvalidArgument, match="floats are never cast to integers"):
        prepare_input(SIG, {**ROW, "age": [30.0]})


def test_bool_stays_bool() -> None:
    with pytest.raises(InvalidArgument, match="bool values are not cast to numbers"):
        prepare_input(SIG, {**ROW, "income": [True]})
    flag = _sig(ColumnSpec("f", "bool"))
    with pytest.raises(InvalidArgument, match="expected bool, got int64"):
        prepare_input(flag, {"f": [1]})


def test_integers_narrow_only_when_every_value_fits() -> None:
    small = _sig(ColumnSpec("n", "int8"))
    assert prepare_input(small, {"n": [1, -5]})["n"].dtype == np.int8
    with pytest.raises(InvalidArgument, match="do not fit in int8"):
        prepare_input(small, {"n": [1, 300]})
    with pytest.raises(InvalidArgument, match="do not fit in uint8"):
        prepare_input(_sig(ColumnSpec("n", "uint8")), {"n": [-1]})


def test_floats_narrow_unless_a_value_overflows() -> None:
    single = _sig(ColumnSpec("x", "float32"))
    assert prepare_input(single, {"x": [0.1]})["x"].dtype == np.float32
    assert np.isnan(prepare_input(single, {"x": [np.nan]})["x"].iloc[0])
    with pytest.raises(InvalidArgument, match="overflow float32"):
        prepare_input(single, {"x": [1e300]})


def test_missing_values_need_a_nullable_column() -> None:
    with pytest.raises(InvalidArgument, match=r"column 'age': 1 missing value.*not nullable"):
        prepare_input(SIG, {**ROW, "age": [None]})
    with pytest.raises(InvalidArgument, match="column 'city': 1 missing value"):
        prepare_input(SIG, {**ROW, "city": [None]})
    nullable = _sig(
        ColumnSpec("age", "int64", nullable=True), ColumnSpec("city", "string", nullable=True)
    )
    out = prepare_input(nullable, {"age": [3, None], "city": ["x", None]})
    assert str(out["age"].dtype) == "Int64" and out["age"].isna().tolist() == [False, True]
    # NaN is a float value: float columns take it whatever `nullable` says
    assert np.isnan(prepare_input(SIG, {**ROW, "income": [None]})["income"].iloc[0])


def test_optional_columns_may_be_absent() -> None:
    sig = _sig(ColumnSpec("a", "int64"), ColumnSpec("b", "float64", optional=True))
    assert list(prepare_input(sig, {"a": [1]}).columns) == ["a"]
    assert list(prepare_input(sig, np.array([[1, 2]])).columns) == ["a", "b"]
    assert list(prepare_input(sig, np.array([[1]])).columns) == ["a"]


def test_positional_arrays_must_have_the_signature_width() -> None:
    with pytest.raises(InvalidArgument, match=r"has 2 columns by position; the signature has 3"):
        prepare_input(SIG, np.zeros((1, 2)))


def test_category_columns_take_strings() -> None:
    sig = _sig(ColumnSpec("k", "category"))
    assert isinstance(prepare_input(sig, {"k": ["a", "b"]})["k"].dtype, pd.CategoricalDtype)


def test_unsupported_input_is_refused_listing_what_is_accepted() -> None:
    with pytest.raises(InvalidArgument, match="pandas or polars DataFrame, a dict of columns"):
        prepare_input(SIG, "age=3")


def test_tensor_inputs_are_cast_and_shape_checked() -> None:
    sig = Signature(inputs=(ColumnSpec(None, "float32", (-1, 2)),), kind="tensor")
    out = prepare_input(sig, [[1, 2], [3, 4]])
    assert out.dtype == np.float32 and out.shape == (2, 2)
    with pytest.raises(InvalidArgument, match=r"expected shape \(-1, 2\), got \(2, 3\)") as caught:
        prepare_input(sig, np.zeros((2, 3)))
    assert caught.value.details["expected"] == [-1, 2]
    with pytest.raises(InvalidArgument, match="expected float32 \\(-1, 2\\), got string"):
        prepare_input(sig, np.array([["a", "b"]]))


def test_several_named_tensors_come_as_a_dict() -> None:
    sig = Signature(
        inputs=(ColumnSpec("ids", "int64", (-1, 3)), ColumnSpec("mask", "bool", (-1, 3))),
        kind="tensor",
    )
    out = prepare_input(sig, {"ids": [[1, 2, 3]], "mask": np.ones((1, 3), bool), "x": 1})
    assert set(out) == {"ids", "mask"} and out["ids"].dtype == np.int64
    with pytest.raises(InvalidArgument, match=r"missing tensor 'mask'"):
        prepare_input(sig, {"ids": [[1, 2, 3]]})
    with pytest.raises(InvalidArgument, match="pass a dict of arrays"):
        prepare_input(sig, np.zeros((1, 3)))


# -- properties --------------------------------------------------------------------------------

_NAMES = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 12))
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique=True))
    columns: dict[str, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(["int64", "float64", "float32", "bool", "string", "int8"]))
        if kind in ("int64", "int8"):
            bound = 100 if kind == "int8" else 2**40
            ints = draw(st.lists(st.integers(-bound, bound), min_size=rows, max_size=rows))
            columns[name] = np.array(ints, dtype=kind)
        elif kind in ("float64", "float32"):
            values = draw(st.lists(st.floats(-1e6, 1e6, width=32), min_size=rows, max_size=rows))
            columns[name] = np.array(values, dtype=kind)
        elif kind == "bool":
            columns[name] = np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
        else:
            columns[name] = draw(st.lists(st.text(max_size=5), min_size=rows, max_size=rows))
    return pd.DataFrame(columns)


@settings(max_examples=60, deadline=None)
@given(frames())
def test_a_frame_matching_its_own_signature_passes_unchanged(frame: pd.DataFrame) -> None:
    out = prepare_input(infer_signature(frame), frame)
    pd.testing.assert_frame_equal(out, frame)


@settings(max_examples=60, deadline=None)
@given(frames(), st.randoms(use_true_random=False))
def test_column_order_and_extra_columns_do_not_matter(frame: pd.DataFrame, rnd: Any) -> None:
    sig = infer_signature(frame)
    shuffled = list(frame.columns)
    rnd.shuffle(shuffled)
    messy = frame[shuffled].assign(**{"__extra__": 1})
    pd.testing.assert_frame_equal(prepare_input(sig, messy), frame)


@settings(max_examples=40, deadline=None)
@given(frames())
def test_the_signature_survives_its_dict_form(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    assert Signature.from_dict(sig.to_dict()) == sig
