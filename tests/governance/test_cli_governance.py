"""keel models card|datasheet|decision through the CLI, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from keel import Keel
from keel.cli import governance, root
from keel.config import load_settings
from tests.governance._build import register_version

# The governance commands join ``keel models``; mount them the same way on a root of their own
# so these tests do not depend on how the main app is wired.
cli = typer.Typer(pretty_exceptions_enable=False)
cli.callback()(root)
cli.add_typer(governance.app, name="models")


@pytest.fixture
def opts(tmp_path: Path) -> list[str]:
    db, art = f"sqlite:///{tmp_path / 'keel.db'}", str(tmp_path / "artifacts")
    with Keel(load_settings({}, database_url=db, artifacts_url=art,
                            capture_packages=False)) as client:
        register_version(client, auc=0.9)
        register_version(client, auc=0.8, seed=2)
    return ["--database-url", db, "--artifacts-url", art]


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


def test_card_as_markdown_shows_gaps_until_set_fills_them(opts: list[str]) -> None:
    code, out, err = invoke([*opts, "models", "card", "churn", "--version", "1"])
    assert code == 0, err
    assert yaml.safe_load(out.split("---\n")[1])["model_version"] == 1
    assert "`keel models card churn --version 1 --set intended_use=…`" in out

    code, out, err = invoke([*opts, "models", "card", "churn", "--version", "1",
                             "--set", "intended_use=Rank accounts by churn risk.",
                             "--set", "limitations=Only EU customers.", "--actor", "alice"])
    assert code == 0, err
    assert "Rank accounts by churn risk." in out and "--set intended_use=" not in out
    assert "--set out_of_scope=" in out

    code, out, _ = invoke([*opts, "models", "card", "churn", "--format", "json"])
    card = json.loads(out)
    assert card["details"]["version"] == 2  # the newest by default
    assert card["gaps"] == ["intended_use", "out_of_scope", "limitations",
                            "ethical_considerations"]  # v1's fields were its own


def test_card_rejects_unknown_fields_and_malformed_pairs(opts: list[str]) -> None:
    code, _, err = invoke([*opts, "models", "card", "churn", "--set", "purpose=x"])
    assert code == 1 and "unknown card field" in err
    code, _, err = invoke([*opts, "models", "card", "churn", "--set", "purpose"])
    assert code == 2 and "key=value" in err
    code, _, err = invoke([*opts, "models", "card", "nope"])
    assert code == 1 and "error" in err


def test_card_as_html_to_a_file(opts: list[str], tmp_path: Path) -> None:
    target = tmp_path / "card.html"
    code, out, err = invoke([*opts, "models", "card", "churn", "--version", "2",
                             "--format", "html", "--output", str(target)])
    assert code == 0 and out == "" and "wrote" in err, err
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Model card: churn v2" in page


def test_decisions_logged_from_the_cli_appear_on_the_card(opts: list[str]) -> None:
    code, out, err = invoke([*opts, "models", "decision", "churn", "--version", "2",
                             "--title", "Ship v2", "--context", "AUC dropped on <b>a</b>",
                             "--decision", "Ship anyway", "--consequences", "Watch segment a",
                             "--actor", "alice"])
    assert code == 0 and "on churn v2: Ship v2" in out, err
    code, out, _ = invoke([*opts, "models", "card", "churn", "--version", "2", "-f", "json"])
    [entry] = json.loads(out)["decisions"]
    assert (entry["title"], entry["author"], entry["version"]) == ("Ship v2", "alice", 2)
    code, out, _ = invoke([*opts, "models", "card", "churn", "--version", "2", "-f", "html"])
    assert "AUC dropped on &lt;b&gt;a&lt;/b&gt;" in out


def test_datasheet_lists_the_models_that_used_the_dataset(opts: list[str]) -> None:
    code, out, err = invoke([*opts, "models", "datasheet", "churn-test:1", "--format", "json"])
    assert code == 0, err
    sheet = json.loads(out)
    assert sheet["name"] == "churn-test" and sheet["splits"] == {"test": 1}
    assert [(m["name"], m["version"]) for m in sheet["models"]] == [("churn", 1)]
    code, out, _ = invoke([*opts, "models", "datasheet", "churn-test:1"])
    assert code == 0 and "# Datasheet: churn-test v1" in out
    code, _, err = invoke([*opts, "models", "datasheet", "missing:1"])
    assert code == 1 and "error" in err
