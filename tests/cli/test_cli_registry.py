from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from keel import Keel
from keel.cli import app
from keel.config import load_settings


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_register_alias_approve_and_audit_from_the_cli(tmp_path: Path) -> None:
    db, art = f"sqlite:///{tmp_path / 'keel.db'}", str(tmp_path / "artifacts")
    opts = ["--database-url", db, "--artifacts-url", art]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    with Keel(load_settings({}, database_url=db, artifacts_url=art)) as client:
        run = client.create_run("cli", capture=False)
        info = client.log_model(run.run_id, LogisticRegression().fit(frame, frame.a > 0), "m")

    code, out, err = invoke([*opts, "models", "register", info.uri, "churn", "--actor", "alice"])
    assert code == 0, err
    assert "churn v1" in out
    code, _, err = invoke([*opts, "models", "request-approval", "churn", "1", "--actor", "alice"])
    assert code == 0, err
    code, _, err = invoke([*opts, "models", "approve", "churn", "1", "--actor", "alice"])
    assert code == 1 and "separation of duties" in err
    code, out, err = invoke([*opts, "models", "approve", "churn", "1", "--actor", "bob"])
    assert code == 0 and "approved" in out, err
    code, out, err = invoke([*opts, "models", "alias", "churn", "champion", "1"])
    assert code == 0 and "-> v1" in out, err

    code, out, _ = invoke([*opts, "models", "list", "--json"])
    assert json.loads(out)[0]["aliases"] == {"champion": 1}
    code, out, _ = invoke([*opts, "models", "show", "churn", "--version", "1", "--json"])
    shown = json.loads(out)
    assert shown["version"]["source"] == info.uri
    assert shown["approvals"][0]["state"] == "approved"

    code, out, _ = invoke([*opts, "audit", "list", "--json"])
    actions = [r["action"] for r in json.loads(out)]
    assert actions[:2] == ["registered_model.created", "model_version.created"]
    assert "approval.decided" in actions and "alias.set" in actions
    code, out, _ = invoke([*opts, "audit", "verify"])
    assert code == 0 and "intact" in out
