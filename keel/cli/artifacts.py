"""keel artifacts list|get."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keel.cli._common import errors_to_exit, print_json, render_table, state

app = typer.Typer(help="List and download run artifacts.", no_args_is_help=True)


@app.command("list")
def list_artifacts(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")],
    path: Annotated[str, typer.Argument(help="Directory inside the run's artifacts.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a run's artifacts (one directory level)."""
    with errors_to_exit():
        client = state(ctx).client()
        run_id = client.runs.resolve_run_id(run_id)
        entries = client.artifacts.list_artifacts(run_id, path)
        if as_json:
            print_json(entries)
            return
        render_table(
            f"artifacts of {run_id[:12]}",
            ["path", "size", "sha256"],
            [(e.path + ("/" if e.is_dir else ""), e.size, (e.sha256 or "")[:16]) for e in entries],
        )


@app.command("get")
def get_artifacts(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")],
    path: Annotated[str, typer.Argument(help="File or directory; all when omitted.")] = "",
    dest: Annotated[Path, typer.Option(help="Where to put it.")] = Path("."),
) -> None:
    """Download artifacts, verifying each file against its recorded sha256."""
    with errors_to_exit():
        client = state(ctx).client()
        local = client.artifacts.download_artifacts(client.runs.resolve_run_id(run_id), path, dest)
        typer.echo(str(local))
