"""Request bodies and responses as keel's own dataclasses: decoded with orjson and
:mod:`keel.core.wire` (typed, errors naming the field), encoded the same way, and described in
the OpenAPI document by JSON Schemas derived from the same type hints, so the spec, the server
and the client cannot drift apart."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, Union, get_args, get_origin

import orjson
from fastapi import Request, Response

from keel.core.pagination import Page
from keel.core.wire import from_wire, to_wire
from keel.errors import InvalidArgument, RequestTooLarge

T = TypeVar("T")

JSON = "application/json"


def _require_json_content_type(request: Request) -> None:
    """A JSON body must say so. Browsers send cross-site form posts (``text/plain``,
    ``application/x-www-form-urlencoded``, ``multipart/form-data``) without asking first, and
    with the user's credentials; refusing every other content type closes that CSRF door."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != JSON and not (media.startswith("application/") and media.endswith("+json")):
        from keel.api._errors import HttpError

        raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE",
                        f"a request body must be sent as {JSON}, not {media or 'untyped'}")


def respond(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(to_wire(data)), status_code=status, media_type=JSON)


def respond_raw(data: Any, status: int = 200) -> Response:
    """``data`` is already JSON-able (columnar arrays, prebuilt dicts)."""
    return Response(orjson.dumps(data), status_code=status, media_type=JSON)


async def read_json(request: Request) -> Any:
    """The request's JSON body (``None`` when empty), bounded by the server's body limit."""
    raw = await request.body()
    limit = request.app.state.keel.config.max_body_bytes
    if len(raw) > limit:
        raise RequestTooLarge(f"request body of {len(raw)} bytes exceeds the {limit}-byte limit")
    if not raw:
        return None
    _require_json_content_type(request)
    # The authorization layer may have parsed the body already to find the resource.
    cached = getattr(request.state, "json_body", None)
    if cached is not None:
        return cached
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidArgument(f"request body is not valid JSON: {error}") from None


async def read_body(request: Request, cls: type[T]) -> T:
    data = await read_json(request)
    if data is None:
        data = {}
    return from_wire(cls, data, "body")


def body_of(cls: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency decoding the JSON body as a ``cls``, so endpoints can stay synchronous
    (FastAPI runs those in its thread pool, off the event loop, while they wait on the
    database)."""

    async def dependency(request: Request) -> T:
        return await read_body(request, cls)

    dependency.__name__ = f"body_{cls.__name__}"
    return dependency



# -- OpenAPI descriptions ------------------------------------------------------------------


def body_spec(cls: type, *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint whose JSON body is a ``cls``."""
    return {
        "requestBody": {
            "required": required,
            "content": {JSON: {"schema": json_schema(cls)}},
        }
    }


def returns(tp: Any, status: int = 200, description: str = "OK") -> dict[int | str, Any]:
    """``responses=`` for an endpoint answering a ``tp`` as JSON."""
    return {status: {"description": description, "content": {JSON: {"schema": json_schema(tp)}}}}


_FLOAT = {"oneOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity",
                                                                      "-Infinity"]}]}


def json_schema(tp: Any) -> dict[str, Any]:
    """A JSON Schema for values of ``tp`` in their wire form (see keel.core.wire)."""
    if tp is Any or tp is object:
        return {}
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        options = [json_schema(a) for a in args if a is not type(None)]
        schema: dict[str, Any] = options[0] if len(options) == 1 else {"anyOf": options}
        if type(None) in args:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema
    if origin is typing.Literal:
        return {"enum": list(get_args(tp))}
    if origin is Page:
        return {"type": "object", "title": "Page", "required": ["items"],
                "properties": {"items": {"type": "array", "items": json_schema(get_args(tp)[0])},
                               "next_page_token": {"anyOf": [{"type": "string"},
                                                             {"type": "null"}]}}}
    if tp is type(None):
        return {"type": "null"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return dict(_FLOAT)
    if tp is str:
        return {"type": "string"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [m.value for m in tp]}
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or (issubclass(tp, tuple) and hasattr(tp, "_fields"))
    ):
        return _object_schema(tp)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        args = get_args(tp)
        return {"type": "object",
                "additionalProperties": json_schema(args[1]) if len(args) == 2 else {}}
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": json_schema(args[0])}
        return {"type": "array", "prefixItems": [json_schema(a) for a in args],
                "minItems": len(args), "maxItems": len(args)}
    if origin in (list, Sequence) or tp in (list, Sequence):
        args = get_args(tp)
        return {"type": "array", "items": json_schema(args[0]) if args else {}}
    raise TypeError(f"no JSON schema for {tp!r}")


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    if dataclasses.is_dataclass(cls):
        fields = [f for f in dataclasses.fields(cls) if f.init]
        names = [f.name for f in fields]
        required = [
            f.name for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
    else:
        names = list(cls._fields)  # type: ignore[attr-defined]
        defaults = getattr(cls, "_field_defaults", {})
        required = [n for n in names if n not in defaults]
    schema: dict[str, Any] = {
        "type": "object",
        "title": cls.__name__,
        "properties": {name: json_schema(hints[name]) for name in names},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema
