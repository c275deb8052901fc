"""keel audit list|verify."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli._common import console, errors_to_exit, fmt_time, print_json, render_table, state

app = typer.Typer(help="The registry's append-only, hash-chained audit log.",
                  no_args_is_help=True)


@app.command("list")
def list_records(
    ctx: typer.Context,
    after: Annotated[int, typer.Option(help="Only records after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Audit records, oldest first: who did what, when, and why."""
    with errors_to_exit():
        records = state(ctx).client().audit.list_audit_records(after, limit)
        if as_json:
            print_json(records)
            return
        render_table(
            "audit log",
            ["seq", "at", "actor", "action", "entity", "reason"],
            [(r.seq, fmt_time(r.at), r.actor, r.action, r.entity_id, r.reason or "")
             for r in records],
        )


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check every record's hash and link; exit 1 if anything was changed or removed."""
    with errors_to_exit():
        report = state(ctx).client().audit.verify_audit_chain()
        if report.ok:
            console.print(f"audit chain intact: {report.checked} records, "
                          f"last hash {report.last_hash}")
            return
        console.print(f"[red]audit chain broken[/red] at seq {report.first_bad_seq}: "
                      f"{report.message}")
        raise typer.Exit(1)

