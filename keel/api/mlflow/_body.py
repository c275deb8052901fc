"""MLflow request fields: the JSON body of a POST, PATCH or DELETE, or the query string of a GET,
read the way MLflow's protobuf JSON is written (int64 as numbers or strings, doubles as numbers
or "NaN"/"Infinity"/"-Infinity", repeated fields as lists or repeated query parameters).

Every mistake is an InvalidArgument naming the field, which the MLflow error format answers as
INVALID_PARAMETER_VALUE (400).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from keel.api._json import read_json
from keel.api.mlflow._errors import invalid, missing

_INT64 = 2**63
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf,
                   "nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class Fields:
    """One request's fields. ``query`` holds repeated query parameters (GET requests)."""

    def __init__(self, data: Mapping[str, Any], query: Mapping[str, list[str]] | None = None,
                 where: str = "") -> None:
        self._data = data
        self._query = query or {}
        self._where = where

    def _label(self, name: str) -> str:
        return f"{self._where}{name}"

    def raw(self, name: str) -> Any:
        if name in self._data:
            return self._data[name]
        values = self._query.get(name)
        return values[-1] if values else None

    def has(self, name: str) -> bool:
        return self.raw(name) is not None

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None or (value == "" and required):
            if required:
                raise missing(self._label(name))
            return default
        if not isinstance(value, str):
            raise invalid(f"Invalid value {value!r} for parameter '{self._label(name)}': "
                          "expected a string", field=self._label(name))
        return value

    def need(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise missing(self._label(name))
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, str) and value.strip().lstrip("-").isdigit()) or (
                isinstance(value, float) and value.is_integer()):
            number = int(value)
        if number is None or not -_INT64 <= number < _INT64:
            raise invalid(f"Invalid value {value!r} for parameter '{self._label(name)}': "
                          "expected a 64-bit integer", field=self._label(name))
        return number

    def number(self, name: str, *, required: bool = False) -> float | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise missing(self._label(name))
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            if value in _SPECIAL_FLOATS:
                return _SPECIAL_FLOATS[value]
            try:
                return float(value)
            except ValueError:
                pass
        raise invalid(f"Invalid value {value!r} for parameter '{self._label(name)}': expected "
                      "a double (64-bit floating point)", field=self._label(name))

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(f"Invalid value {value!r} for parameter '{self._label(name)}': expected "
                      "true or false", field=self._label(name))

    def array(self, name: str) -> list[Any]:
        if name in self._data:
            value = self._data[name]
            if value is None:
                return []
            if not isinstance(value, list):
                raise invalid(f"Invalid value for parameter '{self._label(name)}': expected a "
                              "list", field=self._label(name))
            return value
        return list(self._query.get(name, []))

    def texts(self, name: str) -> list[str]:
        values = self.array(name)
        for value in values:
            if not isinstance(value, str):
                raise invalid(f"Invalid value {value!r} in '{self._label(name)}': expected "
                              "strings", field=self._label(name))
        return values

    def records(self, name: str) -> list[Fields]:
        out = []
        for index, value in enumerate(self.array(name)):
            if not isinstance(value, dict):
                raise invalid(f"Invalid value in '{self._label(name)}': expected objects",
                              field=self._label(name))
            out.append(Fields(value, where=f"{self._label(name)}[{index}]."))
        return out

    def record(self, name: str) -> Fields:
        value = self.raw(name)
        if value is None:
            raise missing(self._label(name))
        if not isinstance(value, dict):
            raise invalid(f"Invalid value for parameter '{self._label(name)}': expected an "
                          "object", field=self._label(name))
        return Fields(value, where=f"{self._label(name)}.")

    def key_values(self, name: str) -> dict[str, str]:
        """``[{"key": ..., "value": ...}, ...]`` as a dict (a later key wins; a value left out
        is "", as protobuf leaves out empty strings)."""
        out: dict[str, str] = {}
        for record in self.records(name):
            key = record.need("key")
            out[key] = record.text("value") or ""
        return out


async def mlflow_fields(request: Request) -> Fields:
    """A dependency: the request's fields (FastAPI then runs a synchronous endpoint in its
    thread pool, off the event loop)."""
    query = {key: request.query_params.getlist(key) for key in request.query_params}
    if request.method == "GET":
        return Fields({}, query)
    data = await read_json(request)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise invalid("the request body must be a JSON object")
    return Fields(data, query)
