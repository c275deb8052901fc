"""keel db upgrade."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli._common import errors_to_exit, state
from keel.config import load_settings

app = typer.Typer(help="Metadata database maintenance.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option(help="Database to migrate; default from settings.")
    ] = None,
) -> None:
    """Apply pending schema migrations (opening a store does this too)."""
    from keel.app import upgrade_metadata_store

    with errors_to_exit():
        url = database_url or state(ctx).database_url or load_settings().resolved_database_url()
        revision = upgrade_metadata_store(url)
        typer.echo(f"{url.split('@')[-1]} is at schema revision {revision}")
