"""describe_dataset: a layout-independent content digest, the schema and a statistics profile."""

from __future__ import annotations

import datetime
import itertools
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keel
from keel.errors import InvalidArgument
from keel.tracking import _datasets
from keel.tracking._datasets import describe_dataset
from keel.tracking.models import DatasetColumn

UTC = datetime.UTC

# -- random tables ------------------------------------------------------------------------------

_ints = st.integers(-(2**63), 2**63 - 1)
_floats = st.floats(allow_nan=False, allow_infinity=False)
_texts = st.text(st.characters(codec="utf-8"), max_size=8)
_times = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.just(UTC),
)
COLUMN_KINDS: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "int": (pa.int64(), _ints),
    "float": (pa.float64(), _floats),
    "text": (pa.string(), _texts),
    "flag": (pa.bool_(), st.booleans()),
    "when": (pa.timestamp("us", tz="UTC"), _times),
    "day": (pa.date32(), st.dates()),
    "ints": (pa.list_(pa.int64()), st.lists(_ints, max_size=3)),
}


@st.composite
def tables(draw: st.DrawFn, *, nulls: bool = True, kinds: tuple[str, ...] = ()) -> pa.Table:
    names = kinds or tuple(COLUMN_KINDS)
    rows = draw(st.integers(0, 30))
    columns = {}
    for name in names:
        arrow_type, values = COLUMN_KINDS[name]
        values = st.none() | values if nulls else values
        columns[name] = pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), arrow_type)
    return pa.table(columns)


@st.composite
def rechunked(draw: st.DrawFn, table: pa.Table) -> pa.Table:
    """The same table split into random chunks (slices keep non-zero array offsets)."""
    cuts = sorted(draw(st.lists(st.integers(0, table.num_rows), max_size=5)))
    bounds = [0, *cuts, table.num_rows]
    pieces = [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    return pa.concat_tables(pieces)


def digest(data: object) -> str:
    return describe_dataset(data).digest


def _different(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return COLUMN_SAMPLE[str(arrow_type)]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 if value < 2**63 - 1 else value - 1
    if isinstance(value, float):
        return math.nextafter(value, math.inf)
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime.datetime):
        return value + datetime.timedelta(microseconds=1)
    if isinstance(value, datetime.date):
        return value + datetime.timedelta(days=1)
    if isinstance(value, list):
        return [*value, 0]
    raise AssertionError(value)


COLUMN_SAMPLE = {
    "int64": 7,
    "double": 0.5,
    "string": "",
    "bool": False,
    "timestamp[us, tz=UTC]": datetime.datetime(2024, 1, 1, tzinfo=UTC),
    "date32[day]": datetime.date(2024, 1, 1),
    "list<item: int64>": [],
}


# -- stability --------------------------------------------------------------------------------


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_digest_is_the_same_however_the_table_is_chunked(data: st.DataObject) -> None:
    table = data.draw(tables())
    assert digest(data.draw(rechunked(table))) == digest(table)
    assert digest(table.combine_chunks()) == digest(table)
    assert digest(pa.Table.from_batches(table.to_batches(max_chunksize=3), table.schema)) == (
        digest(table)
    )


@given(table=tables(), row_group_size=st.integers(1, 40))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_digest_is_the_same_whatever_the_parquet_row_group_size(
    tmp_path: Path, table: pa.Table, row_group_size: int
) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=row_group_size)
    assert digest(path) == digest(table)


@given(tables())
@settings(max_examples=40, deadline=None)
def test_digest_is_the_same_through_polars(table: pa.Table) -> None:
    assert digest(pl.from_arrow(table)) == digest(table)


@given(tables())
@settings(max_examples=40, deadline=None)
def test_digest_is_the_same_through_pandas_arrow_dtypes(table: pa.Table) -> None:
    assert digest(table.to_pandas(types_mapper=pd.ArrowDtype)) == digest(table)


@given(tables(nulls=False, kinds=("int", "float", "text", "flag", "when")))
@settings(max_examples=40, deadline=None)
def test_digest_is_the_same_through_plain_pandas(table: pa.Table) -> None:
    frame = table.to_pandas()
    assert digest(frame) == digest(table)
    assert digest(pa.Table.from_pandas(frame, preserve_index=False)) == digest(frame)


@given(st.data())
@settings(max_examples=80, deadline=None)
def test_digest_changes_when_one_value_changes(data: st.DataObject) -> None:
    table = data.draw(tables().filter(lambda t: t.num_rows > 0))
    name = data.draw(st.sampled_from(table.column_names))
    row = data.draw(st.integers(0, table.num_rows - 1))
    values = table.column(name).to_pylist()
    arrow_type = table.schema.field(name).type
    values[row] = data.draw(
        st.sampled_from([None, _different(values[row], arrow_type)]).filter(
            lambda v: v != values[row] or (v is None) != (values[row] is None)
        )
    )
    index = table.column_names.index(name)
    mutated = table.set_column(index, name, pa.array(values, arrow_type))
    assert digest(mutated) != digest(table)


@given(tables().filter(lambda t: t.to_pylist() != t.to_pylist()[::-1]))
@settings(max_examples=30, deadline=None)
def test_digest_changes_when_rows_are_reordered(table: pa.Table) -> None:
    assert digest(table.take(list(range(table.num_rows))[::-1])) != digest(table)


def test_digest_changes_with_column_names_order_and_types() -> None:
    table = pa.table({"a": [1, 2], "b": [3, 4]})
    base = digest(table)
    assert digest(table.rename_columns(["a", "c"])) != base
    assert digest(table.select(["b", "a"])) != base
    assert digest(table.cast(pa.schema([("a", pa.int32()), ("b", pa.int64())]))) != base
    assert digest(pa.table({"a": [1, 2]})) != base
    assert digest(pa.table({"a": [1, 2], "b": [3, 4], "c": [None, None]})) != base


def test_nulls_empty_strings_and_zeros_are_told_apart() -> None:
    assert digest(pa.table({"a": [0, None]})) != digest(pa.table({"a": [None, 0]}))
    assert digest(pa.table({"a": [0, 0]})) != digest(pa.table({"a": [0, None]}))
    assert digest(pa.table({"s": ["", None]})) != digest(pa.table({"s": ["", ""]}))
    assert digest(pa.table({"s": ["ab", ""]})) != digest(pa.table({"s": ["a", "b"]}))
    assert digest(pa.table({"f": [float("nan")]})) != digest(
        pa.table({"f": pa.array([None], pa.float64())})
    )
    assert digest(pa.table({"l": [[1], [2, 3]]})) != digest(pa.table({"l": [[1, 2], [3]]}))


def test_digest_ignores_buffer_contents_under_nulls_and_nan_payloads() -> None:
    validity = pa.array([True, False, True]).buffers()[1]
    junk_ints = pa.Array.from_buffers(
        pa.int64(), 3, [validity, pa.py_buffer(np.array([1, 99, 3], np.int64).tobytes())]
    )
    offsets = pa.py_buffer(np.array([0, 1, 4, 5], np.int32).tobytes())
    junk_text = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, pa.py_buffer(b"aXYZb")])
    clean = pa.table({"i": [1, None, 3], "s": ["a", None, "b"]})
    assert digest(pa.table({"i": junk_ints, "s": junk_text})) == digest(clean)
    other_nan = np.array([0x7FF8_0000_0000_0001], np.uint64).view(np.float64)
    assert digest(pa.table({"f": other_nan})) == digest(pa.table({"f": [float("nan")]}))


def test_digest_treats_string_offsets_views_and_dictionaries_as_one_logical_type() -> None:
    values = ["a", None, "ü", "a"]
    plain = digest(pa.table({"s": pa.array(values, pa.string())}))
    assert digest(pa.table({"s": pa.array(values, pa.large_string())})) == plain
    assert digest(pa.table({"s": pa.array(values, pa.string_view())})) == plain
    assert digest(pa.table({"s": pa.array(values).dictionary_encode()})) == plain
    assert digest(pd.DataFrame({"s": pd.Categorical(values)})) == plain
    lists = [[1], None, []]
    assert digest(pa.table({"l": pa.array(lists, pa.large_list(pa.int64()))})) == (
        digest(pa.table({"l": pa.array(lists, pa.list_(pa.int64()))}))
    )


def test_nested_types_digest_stably() -> None:
    table = pa.table(
        {
            "st": pa.array([{"a": 1, "b": "x"}, None, {"a": None, "b": "y"}]),
            "m": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int64())),
            "dec": pa.array([1, None, 3], pa.decimal128(10, 2)),
            "dur": pa.array([1, None, 3], pa.duration("ms")),
        }
    )
    base = digest(table)
    assert digest(pa.concat_tables([table.slice(0, 1), table.slice(1)])) == base
    changed = table.set_column(0, "st", pa.array([{"a": 1, "b": "x"}, None, {"a": 2, "b": "y"}]))
    assert digest(changed) != base
    changed = table.set_column(
        1, "m", pa.array([[("k", 2)], None, []], table.schema.field("m").type)
    )
    assert digest(changed) != base


# -- inputs ---------------------------------------------------------------------------------------


SAMPLE = pa.table({"x": [1, 2, 3], "name": ["a", "b", None], "y": [0.5, None, 2.5]})


def test_every_in_memory_input_type_gives_the_arrow_digest() -> None:
    expected = digest(SAMPLE)
    assert digest(SAMPLE.to_pandas()) == expected
    assert digest(pl.from_arrow(SAMPLE)) == expected
    assert digest(SAMPLE.to_batches()[0]) == expected
    assert digest(pa.RecordBatchReader.from_batches(SAMPLE.schema, SAMPLE.to_batches(2))) == (
        expected
    )
    assert digest(SAMPLE.to_pydict()) == expected


def test_pandas_default_index_is_ignored_and_any_other_index_is_data() -> None:
    frame = pd.DataFrame({"x": [1, 2, 3]})
    assert digest(frame) == digest(pa.table({"x": [1, 2, 3]}))
    shifted = frame.set_axis(pd.RangeIndex(1, 4))
    described = describe_dataset(shifted)
    assert [c.name for c in described.columns] == ["x", "__index_level_0__"]
    assert described.digest != digest(frame)
    named = frame.set_axis(pd.Index(["a", "b", "c"], name="key"))
    assert [c.name for c in describe_dataset(named).columns] == ["x", "key"]
    assert digest(named) != digest(frame.set_axis(pd.Index(["a", "b", "d"], name="key")))


def test_a_series_is_one_column_named_after_it_or_c0() -> None:
    assert [c.name for c in describe_dataset(pd.Series([1, 2], name="n")).columns] == ["n"]
    assert digest(pd.Series([1, 2])) == digest(np.array([1, 2]))
    assert describe_dataset(pd.Series([1, 2])).columns == [DatasetColumn("c0", "int64")]


def test_numpy_arrays_become_columns_c0_c1_or_their_field_names() -> None:
    matrix = np.arange(6, dtype=np.float64).reshape(3, 2)
    described = describe_dataset(matrix)
    assert [c.name for c in described.columns] == ["c0", "c1"]
    assert described.digest == digest(pa.table({"c0": [0.0, 2.0, 4.0], "c1": [1.0, 3.0, 5.0]}))
    assert digest(np.asfortranarray(matrix)) == described.digest
    assert digest(np.array([1, 2, 3])) == digest(pa.table({"c0": [1, 2, 3]}))
    structured = np.array([(1, 0.5), (2, 1.5)], dtype=[("id", "i8"), ("score", "f8")])
    assert digest(structured) == digest(pa.table({"id": [1, 2], "score": [0.5, 1.5]}))
    with pytest.raises(InvalidArgument, match="1-D or 2-D"):
        describe_dataset(np.zeros((2, 2, 2)))


def test_unsupported_inputs_are_refused_with_the_supported_list() -> None:
    for bad in (object(), [1, 2, 3], 42):
        with pytest.raises(InvalidArgument, match=r"supported: pandas\.DataFrame") as info:
            describe_dataset(bad)
        assert "Parquet" in info.value.message
    with pytest.raises(InvalidArgument, match="column names must be strings"):
        describe_dataset({1: [1, 2]})
    with pytest.raises(InvalidArgument, match="cannot convert dict"):
        describe_dataset({"a": [1, 2], "b": [1]})
    with pytest.raises(InvalidArgument, match="unique"):
        describe_dataset(pa.table([[1], [2]], names=["a", "a"]))


def test_empty_tables_are_described() -> None:
    empty = pa.table({"x": pa.array([], pa.int64()), "s": pa.array([], pa.string())})
    described = describe_dataset(empty)
    assert described.num_rows == 0
    assert described.profile["x"] == {
        "type": "int64",
        "count": 0,
        "nulls": 0,
        "null_fraction": 0.0,
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
    }
    assert described.profile["s"]["distinct"] == 0 and described.profile["s"]["top"] == []
    assert described.digest == digest(
        pd.DataFrame({"x": pd.Series([], dtype="int64"), "s": pd.Series([], dtype=str)})
    )
    assert described.digest != digest(pa.table({"x": pa.array([], pa.int64())}))
    assert digest(pa.table({})) != described.digest


def test_unicode_names_and_values() -> None:
    table = pa.table({"naïve ✓": ["ü", "日本", "ü", "🙂", None]})
    described = describe_dataset(table)
    assert described.columns == [DatasetColumn("naïve ✓", "string")]
    assert described.digest == digest(table.to_pandas()) == digest(pl.from_arrow(table))
    assert described.profile["naïve ✓"]["top"][0] == ["ü", 2]
    assert digest(pa.table({"naïve ✓": ["u", "日本", "ü", "🙂", None]})) != described.digest


# -- files ----------------------------------------------------------------------------------------


def test_a_parquet_file_digests_like_its_table_and_names_its_source(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    pq.write_table(SAMPLE, path, row_group_size=1)
    described = describe_dataset(str(path))
    assert described.digest == digest(SAMPLE)
    assert described.source == path.resolve().as_uri()
    assert described.source.startswith("file://")
    assert describe_dataset(path, source="s3://bucket/train.parquet").source == (
        "s3://bucket/train.parquet"
    )


def test_a_pandas_frame_written_to_parquet_keeps_its_digest(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2], "s": ["a", None]})
    frame.to_parquet(tmp_path / "f.parquet")
    assert digest(tmp_path / "f.parquet") == digest(frame)


def test_large_parquet_files_are_read_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "x": rng.normal(size=5000),
            "k": pa.array(rng.choice(["a", "b", "c", "d"], 5000)),
            "t": pa.array(rng.integers(0, 10**12, 5000), pa.timestamp("ms")),
        }
    )
    path = tmp_path / "big.parquet"
    pq.write_table(table, path, row_group_size=700)
    monkeypatch.setattr(_datasets, "BATCH_ROWS", 300)
    seen: list[int] = []
    original = _datasets._Describer.update

    def spy(self: Any, chunk: Any) -> None:
        seen.append(chunk.num_rows)
        original(self, chunk)

    monkeypatch.setattr(_datasets._Describer, "update", spy)
    streamed = describe_dataset(path)
    assert max(seen) <= 300 and sum(seen) == 5000
    seen.clear()
    in_memory = describe_dataset(table)
    assert seen == [5000]
    assert streamed.digest == in_memory.digest
    for name in ("k", "t"):
        assert streamed.profile[name] == in_memory.profile[name]
    for key in ("min", "max", "mean", "std"):
        assert streamed.profile["x"][key] == pytest.approx(in_memory.profile["x"][key])


def test_a_csv_file_digests_like_the_table_pyarrow_reads(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("x,name\n1,a\n2,\n3,ü\n", encoding="utf-8")
    described = describe_dataset(path)
    assert described.digest == digest(pcsv.read_csv(path))
    assert described.num_rows == 3
    assert [c.type for c in described.columns] == ["int64", "string"]
    tsv = tmp_path / "data.tsv"
    tsv.write_text("x\tname\n1\ta\n2\t\n3\tü\n", encoding="utf-8")
    assert digest(tsv) == described.digest


def test_a_directory_of_parquet_files_digests_like_their_concatenation(tmp_path: Path) -> None:
    parts = [SAMPLE.slice(0, 2), SAMPLE.slice(2)]
    for i, part in enumerate(parts):
        pq.write_table(part, tmp_path / f"part-{i}.parquet")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".hidden.parquet").write_bytes(b"not parquet")
    (tmp_path / "README.md").write_text("notes")
    described = describe_dataset(tmp_path)
    assert described.digest == digest(SAMPLE)
    assert described.source == tmp_path.resolve().as_uri()


def test_hive_partition_directories_become_columns(tmp_path: Path) -> None:
    for year, values in (("2023", [1, 2]), ("2024", [3])):
        (tmp_path / f"year={year}").mkdir()
        pq.write_table(pa.table({"x": values}), tmp_path / f"year={year}" / "p.parquet")
    described = describe_dataset(tmp_path)
    assert [c.name for c in described.columns] == ["x", "year"]
    assert described.num_rows == 3
    assert described.digest == digest(
        pa.table({"x": [1, 2, 3], "year": pa.array([2023, 2023, 2024], pa.int32())})
    )


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    with pytest.raises(InvalidArgument, match=r"nope\.parquet") as info:
        describe_dataset(missing)
    assert info.value.details["path"] == str(missing)
    with pytest.raises(InvalidArgument, match="no Parquet files"):
        describe_dataset(tmp_path)
    with pytest.raises(InvalidArgument, match="empty"):
        describe_dataset("")
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(InvalidArgument, match="unsupported file type"):
        describe_dataset(other)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 but not really")
    with pytest.raises(InvalidArgument, match=r"broken\.parquet"):
        describe_dataset(broken)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": ["1"]}), tmp_path / "b.parquet")
    with pytest.raises(InvalidArgument, match="different schemas"):
        describe_dataset(tmp_path)


# -- schema and profile --------------------------------------------------------------------------


def test_columns_carry_arrow_type_strings_and_nullability() -> None:
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            ("score", pa.float64()),
            ("name", pa.large_string()),
            ("at", pa.timestamp("us", tz="UTC")),
        ]
    )
    table = pa.table(
        [[1], [0.5], ["a"], [datetime.datetime(2024, 1, 1, tzinfo=UTC)]], schema=schema
    )
    assert describe_dataset(table).columns == [
        DatasetColumn("id", "int64", nullable=False),
        DatasetColumn("score", "double"),
        DatasetColumn("name", "string"),
        DatasetColumn("at", "timestamp[us, tz=UTC]"),
    ]
    assert digest(table) == digest(table.cast(schema.set(0, pa.field("id", pa.int64()))))


def test_numeric_profile_uses_the_population_std_and_skips_nan() -> None:
    table = pa.table(
        {
            "x": pa.array([1.0, 2.0, 3.0, 4.0, None, float("nan")]),
            "i": pa.array([1, 2, 3, 4, None, None]),
        }
    )
    profile = describe_dataset(table).profile
    assert profile["x"] == {
        "type": "double",
        "count": 5,
        "nulls": 1,
        "null_fraction": pytest.approx(1 / 6),
        "min": 1.0,
        "max": 4.0,
        "mean": 2.5,
        "std": pytest.approx(math.sqrt(1.25)),
        "nans": 1,
    }
    assert profile["i"]["min"] == 1 and isinstance(profile["i"]["min"], int)
    assert profile["i"]["std"] == pytest.approx(float(np.std([1, 2, 3, 4])))


def test_profile_is_plain_json_without_nan_or_infinity() -> None:
    table = pa.table(
        {
            "inf": [float("inf"), -float("inf"), 1.0],
            "nan": [float("nan"), float("nan"), None],
            "dec": pa.array([1, 2, None], pa.decimal128(5, 1)),
            "bin": [b"a", b"b", None],
            "day": pa.array([datetime.date(2024, 1, 2), None, datetime.date(2023, 5, 6)]),
            "cat": pa.array([1.5, float("nan"), 1.5]).dictionary_encode(),
        }
    )
    profile = describe_dataset(table).profile
    json.dumps(profile, allow_nan=False)
    assert profile["inf"]["min"] is None and profile["inf"]["mean"] is None
    assert profile["nan"]["mean"] is None and profile["nan"]["nans"] == 2
    assert profile["dec"]["max"] == 2.0 and profile["dec"]["mean"] == 1.5
    assert profile["day"]["min"] == "2023-05-06" and profile["day"]["max"] == "2024-01-02"
    assert profile["cat"]["top"][0] == [1.5, 2]


def test_top_values_are_ordered_by_count_then_value_and_distinct_is_exact() -> None:
    values = ["b", "a", "c", "a", "b", "d", None] + [f"v{i:02}" for i in range(20)]
    profile = describe_dataset(pa.table({"s": values})).profile["s"]
    assert profile["distinct"] == 24
    assert profile["top"][:4] == [["a", 2], ["b", 2], ["c", 1], ["d", 1]]
    assert len(profile["top"]) == _datasets.TOP_VALUES
    flags = describe_dataset(pa.table({"f": [True, False, True, None]})).profile["f"]
    assert flags["top"] == [[True, 2], [False, 1]] and flags["distinct"] == 2


def test_distinct_past_the_cap_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_datasets, "DISTINCT_CAP", 3)
    profile = describe_dataset(pa.table({"s": ["a", "b", "c", "d"]})).profile["s"]
    assert profile["distinct"] is None and profile["top"] is None
    assert describe_dataset(pa.table({"s": ["a", "b", "c", "c"]})).profile["s"]["distinct"] == 3


def test_timestamps_profile_as_iso_strings() -> None:
    aware = pa.array(
        [
            datetime.datetime(2024, 3, 1, 12, tzinfo=UTC),
            None,
            datetime.datetime(2023, 1, 1, tzinfo=UTC),
        ],
        pa.timestamp("ns", tz="UTC"),
    )
    naive = pa.array([datetime.datetime(2024, 3, 1, 12, 0, 0, 5)], pa.timestamp("us"))
    profile = describe_dataset(pa.table({"a": aware, "n": naive.take([0, 0, 0])})).profile
    assert profile["a"]["min"] == "2023-01-01T00:00:00.000000000+00:00"
    assert datetime.datetime.fromisoformat(profile["a"]["max"][:26] + "+00:00") == (
        datetime.datetime(2024, 3, 1, 12, tzinfo=UTC)
    )
    assert profile["n"]["max"] == "2024-03-01T12:00:00.000005"
    assert profile["a"]["type"] == "timestamp[ns, tz=UTC]"


# -- imports and speed ---------------------------------------------------------------------------


def test_importing_the_module_imports_no_dataframe_library() -> None:
    root = str(Path(keel.__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import keel.tracking._datasets; "
        "loaded = [m for m in ('pandas', 'polars', 'pyarrow') if m in sys.modules]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_million_rows_of_ten_float_columns_describe_in_well_under_seconds() -> None:
    table = pa.table({f"c{i}": np.random.default_rng(i).random(1_000_000) for i in range(10)})
    describe_dataset(table.slice(0, 1000))
    start = time.perf_counter()
    described = describe_dataset(table)
    elapsed = time.perf_counter() - start
    assert described.num_rows == 1_000_000
    assert elapsed < 2.0, f"describe_dataset took {elapsed:.2f}s"
