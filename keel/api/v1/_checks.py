"""Checks the server applies to client-supplied fields that the services would otherwise
generate (ids, timestamps, artifact locations)."""

from __future__ import annotations

import re

from fastapi import Request

from keel.artifacts.paths import safe_key
from keel.core.clock import now_ms
from keel.core.naming import validate_key
from keel.core.pagination import decode_page_token
from keel.errors import InvalidArgument

_ID = re.compile(r"[0-9a-f]{32}")
_INT64_MAX = 2**63 - 1
MAX_RESULTS = 50_000


def check_id(value: str | None, what: str) -> str | None:
    """A client-chosen id must look like one keel generates (32 lowercase hex characters)."""
    if value is None:
        return None
    if not _ID.fullmatch(value):
        raise InvalidArgument(f"{what} must be 32 lowercase hex characters, got {value!r}",
                              details={"field": what})
    return value


def check_time(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= _INT64_MAX:
        raise InvalidArgument(f"{what} must be epoch milliseconds, got {value}",
                              details={"field": what})
    return value


def time_or_now(value: int | None, what: str) -> int:
    """A client-supplied timestamp (0 included), or now."""
    checked = check_time(value, what)
    return now_ms() if checked is None else checked


def check_location(value: str | None) -> str | None:
    """An artifact location is a key inside the server's configured artifact store: never a
    URL, an absolute path or a path that climbs out (refused with InvalidArtifactPath)."""
    if value is None or value == "":
        return None
    key = safe_key(value)
    if "artifacts" in key.split("/"):
        from keel.errors import InvalidArtifactPath

        # Run artifacts live at <location>/<run id>/artifacts; a location with such a
        # component could nest one experiment inside another's runs.
        raise InvalidArtifactPath(
            f"artifact location {value!r} may not contain an 'artifacts' component "
            "(that is where runs keep theirs)", details={"path": value},
        )
    return key


def page_args(max_results: int, page_token: str | None) -> tuple[int, int]:
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_RESULTS}, got "
                              f"{max_results}", details={"field": "max_results"})
    return max_results, decode_page_token(page_token)


def parse_tag_filters(request: Request) -> dict[str, str]:
    """``tag.<key>=<value>`` query parameters."""
    out: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("tag."):
            out[validate_key(name[4:], "tag key")] = value
    return out
