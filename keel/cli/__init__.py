"""The ``keel`` command: ``keel <noun> <verb>``; listings take ``--json``."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli import (
    artifacts,
    audit,
    datasets,
    db,
    experiments,
    governance,
    models,
    runs,
    server,
    tokens,
    users,
    webhooks,
)
from keel.cli._common import CliState

app = typer.Typer(
    name="keel",
    help="keel: track, version, register, serve and monitor models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(datasets.app, name="datasets")
models.app.add_typer(governance.app)  # card, datasheet, decision join `keel models`
app.add_typer(models.app, name="models")
app.add_typer(audit.app, name="audit")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(db.app, name="db")
app.command("server")(server.serve)


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option(help="Metadata store URL (default: KEEL_DATABASE_URL or .keel/).")
    ] = None,
    artifacts_url: Annotated[
        str | None, typer.Option(help="Artifact store URL (default: KEEL_ARTIFACTS_URL or .keel/).")
    ] = None,
) -> None:
    state = CliState(database_url=database_url, artifacts_url=artifacts_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main() -> None:
    app()
