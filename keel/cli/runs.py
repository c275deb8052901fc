"""keel runs list|show|compare|delete|restore."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli._common import (
    console,
    errors_to_exit,
    fmt_time,
    fmt_value,
    print_json,
    render_table,
    state,
)
from keel.tracking.models import ViewType

app = typer.Typer(help="List, inspect, compare and delete runs.", no_args_is_help=True)


@app.command("list")
def list_runs(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", "-e", help="Name or id, repeatable.")
    ] = None,
    filter: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\""),
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option(help="e.g. 'metrics.acc DESC', repeatable.")
    ] = None,
    max_results: Annotated[int, typer.Option(help="At most this many.")] = 100,
    view: Annotated[ViewType, typer.Option(help="Which runs to list.")] = ViewType.ACTIVE_ONLY,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search runs with a filter, executed in the database."""
    with errors_to_exit():
        page = state(ctx).client().runs.search_runs(
            experiment or None, filter, order_by, view=view, max_results=max_results
        )
        if as_json:
            print_json(list(page.items))
            return
        metric_keys = sorted({k for r in page.items for k in r.metrics})[:4]
        render_table(
            "runs",
            ["run id", "name", "status", *metric_keys],
            [
                (r.run_id[:12], r.name, r.status.value,
                 *[f"{r.metrics[k].value:.4g}" if k in r.metrics else "" for k in metric_keys])
                for r in page.items
            ],
        )


@app.command("show")
def show_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everything recorded on one run."""
    with errors_to_exit():
        client = state(ctx).client()
        run = client.runs.get_run(client.runs.resolve_run_id(run_id))
        inputs = client.datasets.list_run_inputs(run.run_id)
        if as_json:
            print_json({"run": run, "inputs": inputs})
            return
        console.print(f"[bold]{run.name}[/bold]  {run.run_id}")
        console.print(f"status {run.status.value}   experiment {run.experiment_id}   "
                      f"started {fmt_time(run.start_time)}   ended {fmt_time(run.end_time)}")
        if run.parent_run_id:
            console.print(f"parent {run.parent_run_id}")
        if run.note:
            console.print(run.note)
        if run.error:
            console.print(f"[red]{run.error.strip().splitlines()[-1]}[/red]")
        render_table("params", ["key", "value", "type"],
                     [(k, p.text, p.type) for k, p in sorted(run.params.items())])
        render_table("metrics (latest)", ["key", "value", "step"],
                     [(k, m.value, m.step) for k, m in sorted(run.metrics.items())])
        render_table("tags", ["key", "value"], sorted(run.tags.items()))
        if inputs:
            render_table("datasets", ["version id", "context"],
                         [(i.dataset_version_id, i.context) for i in inputs])


@app.command("compare")
def compare_runs(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Run ids or unique prefixes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Params and final/best metrics side by side; differing rows highlighted."""
    with errors_to_exit():
        client = state(ctx).client()
        comparison = client.compare_runs([client.runs.resolve_run_id(r) for r in run_ids])
        if as_json:
            print_json({
                "runs": [{"run_id": r.run_id, "name": r.name} for r in comparison.runs],
                "rows": comparison.rows,
            })
            return
        rows = comparison.rows
        render_table(
            "comparison",
            ["kind", "key", *comparison.labels],
            [(r.kind, r.key, *[fmt_value(v) for v in r.values]) for r in rows],
            highlight=lambda i: rows[i].differs,
        )


@app.command("delete")
def delete_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")],
) -> None:
    """Soft-delete a run."""
    with errors_to_exit():
        client = state(ctx).client()
        run = client.runs.delete_run(client.runs.resolve_run_id(run_id))
        typer.echo(f"deleted run {run.name!r} ({run.run_id})")


@app.command("restore")
def restore_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, or a unique prefix of it.")],
) -> None:
    """Restore a soft-deleted run."""
    with errors_to_exit():
        client = state(ctx).client()
        run = client.runs.restore_run(client.runs.resolve_run_id(run_id))
        typer.echo(f"restored run {run.name!r} ({run.run_id})")
