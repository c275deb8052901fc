"""keel users create|list|set-password|set-admin|disable|enable|delete|grant|revoke|grants."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from keel.auth import Account, AccountKind, AuthService, ResourceKind, Role
from keel.cli._common import (
    err_console,
    errors_to_exit,
    fmt_time,
    print_json,
    render_table,
    state,
)

app = typer.Typer(
    help="Accounts (users and services) and their roles on experiments and models.",
    no_args_is_help=True,
)

Actor = Annotated[str | None, typer.Option(help="Who does this (default: KEEL_USER or login).")]
Reason = Annotated[str | None, typer.Option(help="Why; kept in the audit log.")]
Name = Annotated[str, typer.Argument(help="Account name.")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input (one line).")]
Experiment = Annotated[str | None, typer.Option(help="An experiment id.")]
Model = Annotated[str | None, typer.Option(help="A registered model name.")]


def service_and_actor(ctx: typer.Context, actor: str | None) -> tuple[AuthService, str]:
    """The auth service of the CLI's client, and who the audit log records as acting."""
    client = state(ctx).client()
    return client.auth, actor or client.user or "unknown"


def _interactive() -> bool:
    return sys.stdin.isatty()


def read_password(from_stdin: bool, *, required: bool) -> str | None:
    """The password from stdin (``--password-stdin``), or typed twice with hidden input when
    interactive; None when neither and not ``required``. Never a command-line argument."""
    if from_stdin:
        text = sys.stdin.read()
        text = text.removesuffix("\n").removesuffix("\r")
        if not text:
            err_console.print("[red]error:[/red] --password-stdin: nothing on standard input")
            raise typer.Exit(2)
        return text
    if _interactive():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    if required:
        err_console.print("[red]error:[/red] give the password on standard input with "
                          "--password-stdin (or run interactively to be prompted)")
        raise typer.Exit(2)
    return None


def resource(experiment: str | None, model: str | None) -> tuple[ResourceKind, str]:
    if (experiment is None) == (model is None):
        raise typer.BadParameter("give exactly one of --experiment ID or --model NAME")
    if experiment is not None:
        return ResourceKind.EXPERIMENT, experiment
    assert model is not None
    return ResourceKind.REGISTERED_MODEL, model


def _row(a: Account) -> tuple[object, ...]:
    flags = [flag for flag, on in (("admin", a.is_admin), ("disabled", a.disabled),
                                   ("password", a.has_password)) if on]
    return (a.name, a.kind.value, ", ".join(flags), fmt_time(a.created_at), a.created_by)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    admin: Annotated[bool, typer.Option("--admin", help="Make the account an admin.")] = False,
    service: Annotated[bool, typer.Option(
        "--service", help="A service account: API tokens only, never a password.")] = False,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[bool, typer.Option(
        "--no-password", help="Do not prompt: the account uses API tokens only.")] = False,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Create an account. Users are prompted for a password (twice, hidden) when interactive,
    or read it with --password-stdin; there is no default password."""
    if service and password_stdin:
        raise typer.BadParameter("service accounts have no password (use `keel tokens create`)")
    password = None
    if not service and not no_password:
        password = read_password(password_stdin, required=False)
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        account = auth.create_account(
            name, kind=AccountKind.SERVICE if service else AccountKind.USER, password=password,
            admin=admin, actor=who, reason=reason,
        )
        role = "admin " if account.is_admin else ""
        typer.echo(f"created {role}{account.kind.value} account {account.name}")
        if account.kind is AccountKind.USER and not account.has_password:
            err_console.print(f"{account.name} has no password: it can use API tokens only "
                              "(`keel users set-password` sets one)", highlight=False)


@app.command("list")
def list_accounts(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every account."""
    with errors_to_exit():
        accounts = state(ctx).client().auth.list_accounts()
        if as_json:
            print_json([a.to_dict() for a in accounts])
            return
        render_table("accounts", ["name", "kind", "flags", "created", "created by"],
                     [_row(a) for a in accounts])


@app.command("set-password")
def set_password(
    ctx: typer.Context,
    name: Name,
    password_stdin: PasswordStdin = False,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Set a user's password (read from stdin with --password-stdin, or prompted)."""
    password = read_password(password_stdin, required=True)
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        auth.set_password(name, password, actor=who, reason=reason)
        typer.echo(f"password of {name} set")


@app.command("set-admin")
def set_admin(
    ctx: typer.Context,
    name: Name,
    admin: Annotated[bool, typer.Option("--admin/--no-admin",
                                        help="Grant or take away admin rights.")] = True,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Make an account an admin (manager of everything), or no longer one with --no-admin."""
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        account = auth.set_admin(name, admin, actor=who, reason=reason)
        typer.echo(f"{account.name} is {'now' if account.is_admin else 'no longer'} an admin")


@app.command("disable")
def disable(ctx: typer.Context, name: Name, actor: Actor = None, reason: Reason = None) -> None:
    """Stop an account from authenticating (its tokens and grants are kept)."""
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        auth.disable_account(name, actor=who, reason=reason)
        typer.echo(f"disabled {name}")


@app.command("enable")
def enable(ctx: typer.Context, name: Name, actor: Actor = None, reason: Reason = None) -> None:
    """Let a disabled account authenticate again."""
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        auth.enable_account(name, actor=who, reason=reason)
        typer.echo(f"enabled {name}")


@app.command("delete")
def delete(ctx: typer.Context, name: Name, actor: Actor = None, reason: Reason = None) -> None:
    """Delete an account, revoking its tokens and grants (the audit log keeps its history)."""
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        auth.delete_account(name, actor=who, reason=reason)
        typer.echo(f"deleted {name}")


@app.command("grant")
def grant(
    ctx: typer.Context,
    name: Name,
    role: Annotated[Role, typer.Option(help="reader, editor or manager.")],
    experiment: Experiment = None,
    model: Model = None,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Give NAME a role on one experiment or registered model (replacing its role there)."""
    kind, resource_id = resource(experiment, model)
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        g = auth.grant(name, kind, resource_id, role, actor=who, reason=reason)
        typer.echo(f"{g.account} is {g.role.value} on {kind.label} {g.resource_id}")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Name,
    experiment: Experiment = None,
    model: Model = None,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Remove NAME's grant on one experiment or model (the default role applies again)."""
    kind, resource_id = resource(experiment, model)
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        g = auth.revoke_grant(name, kind, resource_id, actor=who, reason=reason)
        typer.echo(f"revoked {g.role.value} of {g.account} on {kind.label} {g.resource_id}")


@app.command("grants")
def grants(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this account's grants.")] = None,
    experiment: Experiment = None,
    model: Model = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Grants, by account (optionally of one account, or on one experiment or model)."""
    kind: ResourceKind | None = None
    resource_id: str | None = None
    if experiment is not None or model is not None:
        kind, resource_id = resource(experiment, model)
    with errors_to_exit():
        auth = state(ctx).client().auth
        found = auth.list_grants(name, kind, resource_id)
        if as_json:
            print_json([g.to_dict() for g in found])
            return
        default = auth.default_role.value if auth.default_role else "none"
        render_table(
            f"grants (accounts without one have the default role: {default})",
            ["account", "kind", "resource", "role", "granted by", "granted"],
            [(g.account, g.kind.label, g.resource_id, g.role.value, g.granted_by,
              fmt_time(g.granted_at)) for g in found],
        )
