"""What a client may record as a dataset source.

A dataset source is a description: keel's server never opens, fetches or lists it, so it cannot
be turned into a file read or a request (MLflow's dataset-source CVEs came from a server that
did). It is still checked, because other tools will follow it: no control characters, no
credentials in a URL, no path traversal hidden by encoding or backslashes, no script schemes.
``file://`` URIs stay allowed: keel's client records them for local Parquet and CSV files.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from keel.errors import InvalidArgument

MAX_SOURCE_CHARS = 2048
_REFUSED_SCHEMES = ("javascript", "data", "vbscript")


def check_dataset_source(source: str) -> str:
    if len(source) > MAX_SOURCE_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in source):
        raise InvalidArgument("dataset source is too long or contains control characters",
                              details={"field": "source"})
    decoded = source
    for _ in range(3):
        decoded = unquote(decoded)
    if "\\" in decoded or any(part == ".." for part in decoded.split("/")):
        raise InvalidArgument(f"dataset source {source!r} contains path traversal",
                              details={"field": "source"})
    parts = urlsplit(source)
    if parts.scheme.lower() in _REFUSED_SCHEMES:
        raise InvalidArgument(f"dataset source scheme {parts.scheme!r} is not allowed",
                              details={"field": "source"})
    if parts.username or parts.password:
        raise InvalidArgument("a dataset source must not carry credentials",
                              details={"field": "source"})
    return source
