"""keel models list|show|register|alias|request-approval|approve|reject|lineage."""

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
from keel.cli.lineage import lineage_command

app = typer.Typer(help="The model registry: versions, aliases, approvals.", no_args_is_help=True)
app.command("lineage")(lineage_command)

Actor = Annotated[str | None, typer.Option(help="Who does this (default: KEEL_USER or login).")]
Reason = Annotated[str | None, typer.Option(help="Why; kept in the audit log.")]


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Name pattern, SQL LIKE (% wildcard).")] = None,
    max_results: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List registered models."""
    with errors_to_exit():
        page = state(ctx).client().registry.search_registered_models(
            name, max_results=max_results
        )
        if as_json:
            print_json([m.to_dict() for m in page.items])
            return
        render_table(
            "registered models",
            ["name", "latest", "aliases", "updated"],
            [(m.name, m.latest_version,
              ", ".join(f"@{a}=v{v}" for a, v in sorted(m.aliases.items())),
              fmt_time(m.updated_at)) for m in page.items],
        )


@app.command("show")
def show_model(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int | None, typer.Option(help="Show one version in full.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A registered model and its versions, or one version with its approvals."""
    with errors_to_exit():
        client = state(ctx).client()
        if version is not None:
            mv = client.registry.get_model_version(name, version)
            approvals = client.approvals.list_approvals(name, version)
            if as_json:
                print_json({"version": mv.to_dict(),
                            "approvals": [a.to_dict() for a in approvals]})
                return
            console.print(f"[bold]{mv.name}[/bold] v{mv.version}  {mv.source}")
            console.print(f"flavor {mv.flavor}  digest {mv.model_digest}  "
                          f"commit {mv.code_commit or '-'}  aliases {', '.join(mv.aliases)}")
            render_table("metrics", ["key", "value"], sorted(mv.metrics.items()))
            render_table("approvals", ["target", "state", "requested by", "approved by"],
                         [(a.target, a.state.value, a.requested_by, ", ".join(a.approved_by))
                          for a in approvals])
            return
        model = client.registry.get_registered_model(name)
        versions = client.registry.list_model_versions(name).items
        if as_json:
            print_json({"model": model.to_dict(), "versions": [v.to_dict() for v in versions]})
            return
        console.print(f"[bold]{model.name}[/bold]  {model.description or ''}")
        render_table(
            "versions",
            ["version", "aliases", "flavor", "run id", "created"],
            [(v.version, ", ".join(v.aliases), v.flavor, (v.run_id or "")[:12],
              fmt_time(v.created_at)) for v in versions],
        )


@app.command("register")
def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A logged model: runs:/<run_id>/<path>.")],
    name: Annotated[str, typer.Argument(help="Registered model name (created if new).")],
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Register a logged model as the next version of NAME."""
    with errors_to_exit():
        mv = state(ctx).client().registry.register_model(
            source, name, actor=actor, reason=reason
        )
        typer.echo(f"registered {mv.name} v{mv.version} from {mv.source}")


@app.command("alias")
def alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. champion, prod.")],
    version: Annotated[int | None, typer.Argument(help="Version to point at.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Point ALIAS at VERSION (protected aliases need an approved version), or --delete it."""
    with errors_to_exit():
        registry = state(ctx).client().registry
        if delete:
            registry.delete_alias(name, alias_name, actor=actor, reason=reason)
            typer.echo(f"deleted @{alias_name} of {name}")
            return
        if version is None:
            raise typer.BadParameter("give a VERSION, or --delete")
        move = registry.set_alias(name, alias_name, version, actor=actor, reason=reason)
        typer.echo(f"@{alias_name} of {name}: v{move.from_version or '-'} -> v{move.to_version}")


@app.command("request-approval")
def request_approval(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Version.")],
    target: Annotated[str, typer.Option(help="e.g. staging, production.")] = "production",
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Evaluate the gates and put VERSION up for approval for TARGET."""
    with errors_to_exit():
        approval = state(ctx).client().approvals.request_approval(
            name, version, target, actor=actor, reason=reason
        )
        typer.echo(f"{name} v{version} for {target}: {approval.state.value}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Version.")],
    target: Annotated[str, typer.Option(help="e.g. staging, production.")] = "production",
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Approve VERSION for TARGET (never your own request)."""
    with errors_to_exit():
        approval = state(ctx).client().approvals.approve(
            name, version, target, actor=actor, reason=reason
        )
        typer.echo(f"{name} v{version} for {target}: {approval.state.value} "
                   f"(approved by {', '.join(approval.approved_by)})")


@app.command("reject")
def reject(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Version.")],
    target: Annotated[str, typer.Option(help="e.g. staging, production.")] = "production",
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Reject VERSION for TARGET."""
    with errors_to_exit():
        approval = state(ctx).client().approvals.reject(
            name, version, target, actor=actor, reason=reason
        )
        typer.echo(f"{name} v{version} for {target}: {approval.state.value}")
