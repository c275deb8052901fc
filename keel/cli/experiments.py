"""keel experiments list|create|rename|delete|restore."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli._common import (
    errors_to_exit,
    fmt_time,
    parse_pairs,
    print_json,
    render_table,
    state,
)
from keel.tracking.models import ViewType

app = typer.Typer(help="Create, list and delete experiments.", no_args_is_help=True)


@app.command("list")
def list_experiments(
    ctx: typer.Context,
    view: Annotated[ViewType, typer.Option(help="Which experiments to list.")] = (
        ViewType.ACTIVE_ONLY
    ),
    name: Annotated[str | None, typer.Option(help="Name pattern, SQL LIKE (% wildcard).")] = None,
    max_results: Annotated[int, typer.Option(help="At most this many.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List experiments, newest first."""
    with errors_to_exit():
        page = state(ctx).client().experiments.list_experiments(
            view=view, name_like=name, max_results=max_results
        )
        if as_json:
            print_json(list(page.items))
            return
        render_table(
            "experiments",
            ["id", "name", "stage", "created", "tags"],
            [
                (e.experiment_id, e.name, e.lifecycle_stage.value, fmt_time(e.created_at),
                 ", ".join(f"{k}={v}" for k, v in e.tags.items()))
                for e in page.items
            ],
        )


@app.command("create")
def create_experiment(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    tag: Annotated[list[str] | None, typer.Option(help="key=value, repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an experiment."""
    with errors_to_exit():
        experiment = state(ctx).client().experiments.create_experiment(
            name, tags=parse_pairs(tag, "tag")
        )
        if as_json:
            print_json(experiment)
        else:
            typer.echo(f"created experiment {experiment.name!r} ({experiment.experiment_id})")


@app.command("rename")
def rename_experiment(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Argument(help="Experiment name or id.")],
    new_name: Annotated[str, typer.Argument(help="The new name.")],
) -> None:
    """Rename an experiment."""
    with errors_to_exit():
        client = state(ctx).client()
        exp = client.experiments.resolve(experiment)
        client.experiments.rename_experiment(exp.experiment_id, new_name)
        typer.echo(f"renamed {exp.name!r} to {new_name!r}")


@app.command("delete")
def delete_experiment(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Argument(help="Experiment name or id.")],
) -> None:
    """Soft-delete an experiment (restore brings it back)."""
    with errors_to_exit():
        client = state(ctx).client()
        exp = client.experiments.resolve(experiment)
        client.experiments.delete_experiment(exp.experiment_id)
        typer.echo(f"deleted experiment {exp.name!r} ({exp.experiment_id})")


@app.command("restore")
def restore_experiment(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Argument(help="Experiment name or id.")],
) -> None:
    """Restore a soft-deleted experiment."""
    with errors_to_exit():
        client = state(ctx).client()
        exp = client.experiments.resolve(experiment)
        client.experiments.restore_experiment(exp.experiment_id)
        typer.echo(f"restored experiment {exp.name!r} ({exp.experiment_id})")
