"""keel tokens create|list|revoke."""

from __future__ import annotations

import datetime
import re
from typing import Annotated

import typer

from keel.cli._common import (
    err_console,
    errors_to_exit,
    fmt_time,
    print_json,
    render_table,
    state,
)
from keel.cli.users import Actor, Reason, service_and_actor
from keel.core.clock import now_ms

app = typer.Typer(help="API tokens: created for an account, shown once, revocable.",
                  no_args_is_help=True)

_DURATION = re.compile(r"(\d{1,6})([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_lifetime(text: str) -> datetime.timedelta | None:
    """``30d``, ``12h``, ``90m``, ``2w``, ``3600s`` or ``never`` (None)."""
    value = text.strip().lower()
    if value == "never":
        return None
    match = _DURATION.fullmatch(value)
    if match is None or int(match.group(1)) == 0:
        raise typer.BadParameter(
            f"{text!r} is not a lifetime: use a positive number with s, m, h, d or w "
            "(30d, 12h) or never", param_hint="--expires-in",
        )
    return datetime.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@app.command("create")
def create(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. ci.")],
    expires_in: Annotated[str, typer.Option(
        help="Lifetime: 30d, 12h, 2w, ... or never (a token that never expires).")] = "90d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with the secret).")] = False,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Create an API token. The secret goes to standard output once and cannot be shown again;
    use it as a bearer token or as the password of HTTP basic auth."""
    lifetime = parse_lifetime(expires_in)
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        info, secret = auth.create_token(account, name=name, expires_in=lifetime, actor=who,
                                         reason=reason)
        until = f"expires {fmt_time(info.expires_at)} UTC" if info.expires_at else \
            "never expires"
        err_console.print(
            f"created token {info.token_id} ({info.name}) for {info.account}; it {until}.\n"
            "[yellow]warning:[/yellow] this is the only time the secret is shown; it cannot "
            "be shown again. Store it now.", highlight=False,
        )
        if as_json:
            print_json({"token": info.to_dict(), "secret": secret})
        else:
            typer.echo(secret)


@app.command("list")
def list_tokens(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(help="Only this account's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Tokens (never their secrets), oldest first, with their status."""
    with errors_to_exit():
        tokens = state(ctx).client().auth.list_tokens(account)
        now = now_ms()
        if as_json:
            print_json([{**t.to_dict(), "status": t.status(now)} for t in tokens])
            return
        render_table(
            "API tokens",
            ["token id", "account", "name", "status", "expires", "last used"],
            [(t.token_id, t.account, t.name, t.status(now),
              fmt_time(t.expires_at)[:10] or "never", fmt_time(t.last_used_at))
             for t in tokens],
        )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token id (from `keel tokens list`).")],
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Revoke a token: it stops working at once."""
    with errors_to_exit():
        auth, who = service_and_actor(ctx, actor)
        info = auth.revoke_token(token_id, actor=who, reason=reason)
        typer.echo(f"revoked token {info.token_id} ({info.name}) of {info.account}")
