"""The package surface: a light import, a pinned public API, one error tree, documented settings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import keel
from keel import errors
from keel.config import SETTINGS, load_settings
from keel.errors import InvalidArgument, KeelError, MissingDependency

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ["sqlalchemy", "alembic", "pandas", "pyarrow", "numpy", "psycopg", "boto3", "botocore",
         "s3fs", "duckdb", "sklearn", "fastapi", "starlette", "polars", "typer", "rich"]


def test_import_keel_loads_no_heavy_dependency() -> None:
    code = f"import sys, keel; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_public_api_is_pinned() -> None:
    assert sorted(keel.__all__) == sorted([
        "ActiveRun", "Keel", "KeelError", "RunStatus", "active_run", "client", "compare_runs",
        "connect", "create_experiment", "datasets", "disconnect", "download_artifacts",
        "end_run", "flush", "get_experiment", "get_run", "lineage", "list_artifacts",
        "list_experiments", "load_model", "log_artifact", "log_artifacts", "log_dataset",
        "log_dict", "log_figure",
        "log_metric", "log_metrics", "log_model", "log_param", "log_params", "log_text",
        "register_model", "search_runs", "set_note", "set_tag", "set_tags", "start_run",
    ])
    for name in keel.__all__:
        assert hasattr(keel, name), name


def test_every_error_is_rebuilt_from_its_code_as_the_same_class() -> None:
    classes = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    for cls in classes:
        if cls is MissingDependency:
            continue
        rebuilt = errors.error_from_code(cls.code, "msg", {"k": 1})
        assert type(rebuilt) is cls and rebuilt.details == {"k": 1}
        assert issubclass(cls, KeelError) and 400 <= cls.http_status < 600
    assert type(errors.error_from_code("SOMETHING_NEW", "m")) is KeelError


def test_the_error_tree_in_the_docstring_names_every_error() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name[0].isupper():
            assert name in doc, f"{name} missing from the tree in keel/errors.py"


def test_a_missing_dependency_says_which_extra_to_install() -> None:
    exc = MissingDependency("psycopg", extra="postgres")
    assert "pip install 'keelml[postgres]'" in str(exc)


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [s.env_var for s in SETTINGS if f"`{s.env_var}`" not in text]
    assert missing == []


def test_settings_are_read_from_keel_variables_and_checked() -> None:
    settings = load_settings({"KEEL_METRIC_FLUSH_SIZE": "7", "KEEL_CAPTURE_GIT": "off"})
    assert settings.metric_flush_size == 7 and settings.capture_git is False
    with pytest.raises(InvalidArgument, match="KEEL_METRIC_FLUSH_SIZE"):
        load_settings({"KEEL_METRIC_FLUSH_SIZE": "many"})
    with pytest.raises(InvalidArgument, match="unknown setting"):
        load_settings({}, no_such_setting=1)


def test_only_config_reads_the_environment() -> None:
    offenders = []
    for path in (ROOT / "keel").rglob("*.py"):
        if path.name == "config.py" and path.parent.name == "keel":
            continue
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_an_unknown_store_scheme_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"known schemes: .*sqlite"):
        keel.Keel(load_settings({}, database_url="mysql://x/y", home=str(tmp_path)))
    with pytest.raises(InvalidArgument, match=r"known schemes: .*s3"):
        keel.Keel(load_settings({}, artifacts_url="ftp://x/y", home=str(tmp_path)))
