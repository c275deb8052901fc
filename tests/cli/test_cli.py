from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from keel import Keel
from keel.cli import app
from keel.cli.reference import render_reference
from keel.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> tuple[list[str], list[str]]:
    """A store with two finished runs; returns (global CLI options, run ids)."""
    db, art = f"sqlite:///{tmp_path / 'keel.db'}", str(tmp_path / "artifacts")
    settings = load_settings({}, database_url=db, artifacts_url=art, capture_packages=False)
    ids = []
    with Keel(settings) as client:
        for lr, acc in [(0.1, 0.8), (0.01, 0.9)]:
            run = client.create_run("cli-exp", capture=False)
            client.runs.log_params(run.run_id, {"lr": lr})
            client.runs.log_metric(run.run_id, "acc", acc)
            client.artifacts.log_text(run.run_id, "hi", "notes/a.txt")
            client.datasets.log_dataset(
                pd.DataFrame({"x": [1, 2, 3]}), name="tiny", run_id=run.run_id
            )
            client.runs.end_run(run.run_id)
            ids.append(run.run_id)
    return ["--database-url", db, "--artifacts-url", art], ids


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_listings_render_tables_and_json(store: tuple[list[str], list[str]]) -> None:
    opts, ids = store
    code, out, _ = invoke([*opts, "experiments", "list"])
    assert code == 0 and "cli-exp" in out
    code, out, _ = invoke([*opts, "experiments", "list", "--json"])
    assert [e["name"] for e in json.loads(out)] == ["cli-exp"]
    code, out, _ = invoke([*opts, "runs", "list", "-e", "cli-exp", "--filter",
                           "metrics.acc > 0.85", "--json"])
    assert code == 0 and [r["run_id"] for r in json.loads(out)] == [ids[1]]
    code, out, _ = invoke([*opts, "runs", "show", ids[0], "--json"])
    assert json.loads(out)["run"]["params"]["lr"]["text"] == "0.1"
    code, out, _ = invoke([*opts, "artifacts", "list", ids[0], "notes", "--json"])
    assert [a["path"] for a in json.loads(out)] == ["notes/a.txt"]
    code, out, _ = invoke([*opts, "datasets", "list", "--json"])
    assert [d["name"] for d in json.loads(out)] == ["tiny"]
    code, out, _ = invoke([*opts, "datasets", "show", "tiny:1", "--json"])
    assert sorted(r["run_id"] for r in json.loads(out)["runs"]) == sorted(ids)


def test_compare_shows_differences(store: tuple[list[str], list[str]]) -> None:
    opts, ids = store
    code, out, _ = invoke([*opts, "runs", "compare", *ids, "--json"])
    rows = {(r["kind"], r["key"]): r for r in json.loads(out)["rows"]}
    assert code == 0 and rows[("param", "lr")]["differs"] is True
    code, out, _ = invoke([*opts, "runs", "compare", *ids])
    assert code == 0 and "lr" in out


def test_artifacts_get_downloads_files(store: tuple[list[str], list[str]], tmp_path: Path) -> None:
    opts, ids = store
    code, out, _ = invoke([*opts, "artifacts", "get", ids[0], "notes/a.txt", "--dest",
                           str(tmp_path / "dl")])
    assert code == 0 and Path(out.strip()).read_text() == "hi"


def test_delete_and_restore_runs_and_experiments(store: tuple[list[str], list[str]]) -> None:
    opts, ids = store
    assert invoke([*opts, "runs", "delete", ids[0]])[0] == 0
    _, out, _ = invoke([*opts, "runs", "list", "--json"])
    assert [r["run_id"] for r in json.loads(out)] == [ids[1]]
    assert invoke([*opts, "runs", "restore", ids[0]])[0] == 0
    assert invoke([*opts, "experiments", "delete", "cli-exp"])[0] == 0
    _, out, _ = invoke([*opts, "experiments", "list", "--json"])
    assert json.loads(out) == []
    assert invoke([*opts, "experiments", "restore", "cli-exp"])[0] == 0


def test_errors_print_one_line_and_exit_non_zero(store: tuple[list[str], list[str]]) -> None:
    opts, _ = store
    code, out, err = invoke([*opts, "runs", "show", "f" * 32])
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "error:" in err
    code, _, err = invoke([*opts, "runs", "list", "--filter", "metrics.acc >"])
    assert code == 1 and "error:" in err and len(err.strip().splitlines()) == 1
    code, _, err = invoke([*opts, "experiments", "create", "cli-exp"])
    assert code == 1 and "already" in err.lower()


def test_db_upgrade_reports_the_schema_revision(tmp_path: Path) -> None:
    code, out, _ = invoke(["db", "upgrade", "--database-url", f"sqlite:///{tmp_path / 'n.db'}"])
    assert code == 0 and "revision" in out


def test_the_cli_reference_in_docs_matches_the_cli() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == render_reference()


def test_commands_accept_a_unique_run_id_prefix(store: tuple[list[str], list[str]]) -> None:
    opts, ids = store
    code, out, _ = invoke([*opts, "runs", "show", ids[0][:8], "--json"])
    assert code == 0 and json.loads(out)["run"]["run_id"] == ids[0]
    code, _, err = invoke([*opts, "runs", "show", "abc"])
    assert code == 1 and "at least 6" in err
    code, _, err = invoke([*opts, "runs", "show", "0123456789ab"])
    assert code == 1 and "no run id starts with" in err
