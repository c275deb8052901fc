"""keel models card|datasheet|decision: model cards, datasheets and the decision log.

Mounted under ``keel models`` (its commands join that group).
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from keel.app import Keel
from keel.cli._common import errors_to_exit, parse_pairs, state
from keel.governance import (
    GovernanceService,
    card_to_dict,
    card_to_html,
    card_to_markdown,
    datasheet_to_dict,
    datasheet_to_html,
    datasheet_to_markdown,
)

app = typer.Typer(help="Model cards, datasheets and decision logs.", no_args_is_help=True)

Actor = Annotated[str | None, typer.Option(help="Who does this (default: KEEL_USER or login).")]


class Format(enum.StrEnum):
    MD = "md"
    HTML = "html"
    JSON = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="md, html or json.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]


def governance(client: Keel) -> GovernanceService:
    service = getattr(client, "governance", None)
    if isinstance(service, GovernanceService):
        return service
    return GovernanceService(client.registry, client.approvals, client.runs, client.datasets)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


@app.command("card")
def card(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int | None, typer.Option(help="Version (default: the newest).")] = None,
    fmt: FormatOpt = Format.MD,
    output: OutputOpt = None,
    set_fields: Annotated[
        list[str] | None,
        typer.Option("--set", help="field=text for intended_use, out_of_scope, limitations, "
                     "ethical_considerations (on the version with --version, else the model); "
                     "an empty text clears the field. Repeatable."),
    ] = None,
    actor: Actor = None,
) -> None:
    """The model card of a version, generated from the registry; --set writes human fields."""
    with errors_to_exit():
        service = governance(state(ctx).client())
        updates = parse_pairs(set_fields, "--set")
        if updates:
            service.update_card_fields(name, dict(updates), version=version, actor=actor)
        model_card = service.model_card(name, version)
        if fmt is Format.JSON:
            text = json.dumps(card_to_dict(model_card), indent=2, ensure_ascii=False) + "\n"
        elif fmt is Format.HTML:
            text = card_to_html(model_card)
        else:
            text = card_to_markdown(model_card)
        _emit(text, output)


@app.command("datasheet")
def datasheet(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Dataset version: id, name:version or name@latest.")],
    fmt: FormatOpt = Format.MD,
    output: OutputOpt = None,
) -> None:
    """The datasheet of a dataset version: composition, schema, stats, splits, models."""
    with errors_to_exit():
        sheet = governance(state(ctx).client()).datasheet(ref)
        if fmt is Format.JSON:
            text = json.dumps(datasheet_to_dict(sheet), indent=2, ensure_ascii=False) + "\n"
        elif fmt is Format.HTML:
            text = datasheet_to_html(sheet)
        else:
            text = datasheet_to_markdown(sheet)
        _emit(text, output)


@app.command("decision")
def decision(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    title: Annotated[str, typer.Option(help="Short title of the decision.")],
    context: Annotated[str, typer.Option(help="What prompted it.")],
    decision_text: Annotated[str, typer.Option("--decision", help="What was decided.")],
    consequences: Annotated[str, typer.Option(help="What follows from it.")],
    version: Annotated[int | None, typer.Option(help="Attach to one version.")] = None,
    author: Annotated[str | None, typer.Option(help="Author (default: the actor).")] = None,
    actor: Actor = None,
) -> None:
    """Add a decision-log entry to a registered model (or one version)."""
    with errors_to_exit():
        entry = state(ctx).client().registry.log_decision(
            name, title=title, context=context, decision=decision_text,
            consequences=consequences, version=version, author=author, actor=actor,
        )
        scope = name if entry.version is None else f"{name} v{entry.version}"
        typer.echo(f"logged decision {entry.entry_id} on {scope}: {entry.title}")
