"""keel datasets list|show."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli._common import (
    console,
    errors_to_exit,
    fmt_time,
    print_json,
    render_table,
    state,
)

app = typer.Typer(help="Dataset versions and the runs that used them.", no_args_is_help=True)


@app.command("list")
def list_datasets(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only versions of this dataset.")] = None,
    max_results: Annotated[int, typer.Option(help="At most this many.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dataset versions, newest first (refer to one as NAME:VERSION)."""
    with errors_to_exit():
        page = state(ctx).client().datasets.list_dataset_versions(name, max_results=max_results)
        if as_json:
            print_json(list(page.items))
            return
        render_table(
            "dataset versions",
            ["ref", "rows", "columns", "digest", "source", "created"],
            [
                (f"{d.name}:{d.version}", d.num_rows, len(d.columns), d.digest[:16],
                 d.source or "", fmt_time(d.created_at))
                for d in page.items
            ],
        )


@app.command("show")
def show_dataset(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Version id, NAME:VERSION or NAME@latest.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A dataset version: schema, profile, and the runs that used it."""
    with errors_to_exit():
        client = state(ctx).client()
        version = client.datasets.get_dataset_version(ref)
        used_by = client.datasets.list_dataset_runs(version.dataset_version_id)
        if as_json:
            print_json({"version": version, "runs": used_by})
            return
        console.print(f"[bold]{version.name}[/bold] v{version.version}  "
                      f"{version.num_rows} rows  sha256 {version.digest}")
        if version.source:
            console.print(f"source {version.source}")
        render_table(
            "columns",
            ["name", "type", "nulls", "min", "max", "mean", "top"],
            [
                (c.name, c.type,
                 version.profile.get(c.name, {}).get("nulls"),
                 version.profile.get(c.name, {}).get("min"),
                 version.profile.get(c.name, {}).get("max"),
                 version.profile.get(c.name, {}).get("mean"),
                 ", ".join(str(v) for v, _ in version.profile.get(c.name, {}).get("top", [])[:3]))
                for c in version.columns
            ],
        )
        render_table("used by", ["run id", "context"],
                     [(r.run_id[:12], r.context) for r in used_by])
