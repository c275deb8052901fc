"""Shared pure types and helpers: ids, clock, names, pagination, typed values (stdlib only)."""

from keel.core.clock import now_ms
from keel.core.ids import new_id
from keel.core.naming import validate_key, validate_name
from keel.core.pagination import Page, decode_page_token, encode_page_token
from keel.core.values import decode_value, encode_value

__all__ = [
    "Page",
    "decode_page_token",
    "decode_value",
    "encode_page_token",
    "encode_value",
    "new_id",
    "now_ms",
    "validate_key",
    "validate_name",
]
