"""Governance documents: model cards, datasheets, the human-written card fields and the
decision log, as JSON documents or rendered (``format=md|html|json``, as ``keel models card``
offers them).

A card is derived from what the server recorded; reading one needs reader on the model and, as
it shows the run's params and datasets, reader on the run's experiment. Card fields and
decisions need editor to write. A datasheet needs an authenticated caller; with
authentication on it lists only the runs and models the caller may read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from keel.api._authz import AUTHENTICATED, KeelRoute, permission
from keel.api._json import body_of, body_spec, respond, respond_raw, returns
from keel.api._state import actor_of, state_of
from keel.api.v1._registry import MODEL, MODELS, model_name, on_model, version_number
from keel.auth import ResourceKind, Role
from keel.core.naming import validate_name
from keel.errors import InvalidArgument, NotFound
from keel.registry import CardFields, DecisionLogEntry

router = APIRouter(prefix="/api/v1", tags=["governance"], route_class=KeelRoute)

_read, _edit = on_model(Role.READER), on_model(Role.EDITOR)
FORMATS = ("json", "md", "html")
_MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def _document(description: str) -> dict[int | str, Any]:
    return {200: {"description": description, "content": {
        "application/json": {"schema": {"type": "object"}},
        "text/markdown": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}},
    }}}


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}",
                              details={"field": "format"})
    return fmt


def _optional_version(version: int | None) -> int | None:
    return None if version is None else version_number(version)


def _rendered(fmt: str, as_dict: Any, as_md: Any, as_html: Any, document: Any) -> Response:
    if fmt == "json":
        return respond_raw(as_dict(document))
    text = (as_md if fmt == "md" else as_html)(document)
    return Response(text, media_type=_MEDIA[fmt])


@dataclass(frozen=True)
class SetCardFields:
    fields: CardFields
    version: int | None = None


@dataclass(frozen=True)
class UpdateCardFields:
    fields: dict[str, str | None]
    """Some human fields; an empty or null value clears one, the others are kept."""
    version: int | None = None


@dataclass(frozen=True)
class LogDecision:
    title: str
    context: str
    decision: str
    consequences: str
    version: int | None = None
    author: str | None = None


# -- model cards ---------------------------------------------------------------------------


@router.get(MODELS + "/card", responses=_document("the model card"))
@permission(_read)
def model_card(request: Request, name: str, version: int | None = None,
               fmt: str = Query("json", alias="format")) -> Response:
    """The card of a version (the newest when none is given): JSON, Markdown with YAML front
    matter, or one self-contained HTML page."""
    from keel.governance import card_to_dict, card_to_html, card_to_markdown

    state = state_of(request)
    fmt = _format(fmt)
    card = state.keel.governance.model_card(model_name(name), _optional_version(version))
    if card.lineage.experiment_id is not None:
        state.check(request, Role.READER, ResourceKind.EXPERIMENT, card.lineage.experiment_id)
    return _rendered(fmt, card_to_dict, card_to_markdown, card_to_html, card)


@router.patch(MODELS + "/card", openapi_extra=body_spec(UpdateCardFields),
              responses=returns(CardFields))
@permission(_edit)
def update_card_fields(request: Request, name: str,
                       body: UpdateCardFields = Depends(body_of(UpdateCardFields))) -> Response:
    """Change some human fields of the model (or of one version, as overrides), keeping the
    others; InvalidArgument names an unknown field."""
    return respond(state_of(request).keel.governance.update_card_fields(
        model_name(name), body.fields, version=_optional_version(body.version),
        actor=actor_of(request)))


@router.put(MODELS + "/card-fields", openapi_extra=body_spec(SetCardFields),
            responses=returns(CardFields))
@permission(_edit)
def set_card_fields(request: Request, name: str,
                    body: SetCardFields = Depends(body_of(SetCardFields))) -> Response:
    """Replace the model's human-written card fields, or one version's overrides."""
    return respond(state_of(request).keel.registry.set_card_fields(
        model_name(name), body.fields, version=_optional_version(body.version),
        actor=actor_of(request)))


@router.get(MODELS + "/card-fields", responses=returns(CardFields))
@permission(_read)
def card_fields(request: Request, name: str, version: int | None = None) -> Response:
    """The effective fields: the model's, with the version's overrides on top."""
    return respond(state_of(request).keel.registry.card_fields(
        model_name(name), _optional_version(version)))


@router.get(MODELS + "/card-fields/stored", responses=returns(CardFields))
@permission(_read)
def stored_card_fields(request: Request, name: str, version: int | None = None) -> Response:
    """The fields exactly as stored for the model or the version (not overlaid)."""
    return respond(state_of(request).keel.registry.stored_card_fields(
        model_name(name), _optional_version(version)))


# -- the decision log ----------------------------------------------------------------------


@router.post(MODELS + "/decisions", openapi_extra=body_spec(LogDecision),
             responses=returns(DecisionLogEntry, 201), status_code=201)
@permission(_edit)
def log_decision(request: Request, name: str,
                 body: LogDecision = Depends(body_of(LogDecision))) -> Response:
    """An architecture-decision-record style entry on the model or one version."""
    return respond(state_of(request).keel.registry.log_decision(
        model_name(name), title=body.title, context=body.context, decision=body.decision,
        consequences=body.consequences, version=_optional_version(body.version),
        author=None if body.author is None else validate_name(body.author, "author"),
        actor=actor_of(request)), 201)


@router.get(MODELS + "/decisions", responses=returns(list[DecisionLogEntry]))
@permission(_read)
def list_decisions(request: Request, name: str, version: int | None = None) -> Response:
    """Oldest first: every entry of the model and its versions, or one version's."""
    return respond(state_of(request).keel.registry.list_decisions(
        model_name(name), _optional_version(version)))


# -- datasheets ----------------------------------------------------------------------------


def _can_read_run(request: Request, run_id: str) -> bool:
    state = state_of(request)
    try:
        experiment_id = state.run_owner(run_id)[0]
    except NotFound:
        return False
    return state.can(request, Role.READER, ResourceKind.EXPERIMENT, experiment_id)


@router.get("/datasheets/{ref:path}", responses=_document("the datasheet"))
@permission(AUTHENTICATED)
def datasheet(request: Request, ref: str, fmt: str = Query("json", alias="format")) -> Response:
    """The datasheet of a dataset version (id, ``name:version`` or ``name@latest``):
    composition, schema, statistics, splits, and the runs and models that used it."""
    from keel.governance import datasheet_to_dict, datasheet_to_html, datasheet_to_markdown

    state = state_of(request)
    fmt = _format(fmt)
    sheet = state.keel.governance.datasheet(validate_name(ref, "dataset reference"))
    if state.auth is not None:
        runs = tuple(u for u in sheet.runs if _can_read_run(request, u.run_id))
        models = tuple(m for m in sheet.models
                       if state.can(request, Role.READER, MODEL, m.name))
        sheet = dataclasses.replace(sheet, runs=runs, models=models)
    return _rendered(fmt, datasheet_to_dict, datasheet_to_markdown, datasheet_to_html, sheet)
