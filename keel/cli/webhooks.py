"""keel webhooks deliver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keel.cli._common import errors_to_exit, render_table, state

app = typer.Typer(help="Deliver registry events to webhook targets.", no_args_is_help=True)


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    cursor_file: Annotated[
        Path | None, typer.Option(help="Where the last delivered event is kept "
                                       "(default: <KEEL_HOME>/webhooks.cursor).")
    ] = None,
) -> None:
    """Send every event since the last run to the configured targets (for cron); failures are
    reported, never fatal, and the cursor moves on."""
    from keel.registry.webhooks import read_cursor, write_cursor

    with errors_to_exit():
        client = state(ctx).client()
        path = cursor_file or client.settings.home_path / "webhooks.cursor"
        dispatcher = client.webhooks()
        cursor = read_cursor(path)
        delivered = failed = 0
        failures = []
        while True:
            report = dispatcher.deliver_pending(cursor)
            delivered += len(report.delivered)
            failed += len(report.failed)
            failures += [(r.seq, r.event_type, r.target, r.reason) for r in report.failed]
            if report.cursor == cursor:
                break
            cursor = report.cursor
            write_cursor(path, cursor)
        typer.echo(f"delivered {delivered}, failed {failed}; cursor at {cursor}")
        if failures:
            render_table("failed deliveries", ["seq", "event", "target", "reason"], failures)
