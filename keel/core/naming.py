"""Validation of user-supplied names and keys.

Names (experiments, runs, datasets) and keys (params, metrics, tags) end up in SQL rows, file
paths, CLI tables and HTTP headers, so control characters are refused everywhere and lengths are
bounded. The error names the field and says what is wrong.
"""

from __future__ import annotations

import functools
import unicodedata

from keel.errors import InvalidArgument

MAX_NAME_LENGTH = 500
MAX_KEY_LENGTH = 250


_BANNED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def _check(value: object, what: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(
            f"{what} must be a string, got {type(value).__name__}", details={"field": what}
        )
    if not value or not value.strip():
        raise InvalidArgument(f"{what} must not be empty", details={"field": what})
    if len(value) > max_length:
        raise InvalidArgument(
            f"{what} is {len(value)} characters long; at most {max_length} are allowed",
            details={"field": what},
        )
    # Fast path: isprintable() is False for every banned category (and for spaces other than
    # ' ', which are allowed), so the per-character scan runs only for unusual names.
    if not value.isprintable():
        for position, char in enumerate(value):
            if unicodedata.category(char) in _BANNED_CATEGORIES:
                raise InvalidArgument(
                    f"{what} {value!r} contains a control character {char!r} at position "
                    f"{position}",
                    details={"field": what, "position": position},
                )
    return value


def validate_name(value: object, what: str = "name") -> str:
    """A human-facing name: non-empty, no control characters, at most 500 characters."""
    return _check(value, what, MAX_NAME_LENGTH)


def validate_key(value: object, what: str = "key") -> str:
    """A param/metric/tag key: as a name, at most 250 characters, and no leading or trailing
    whitespace (which would make two keys look the same)."""
    if isinstance(value, str) and _known_good_key(value):
        return value
    key = _check(value, what, MAX_KEY_LENGTH)
    if key != key.strip():
        raise InvalidArgument(
            f"{what} {key!r} has leading or trailing whitespace", details={"field": what}
        )
    return key


@functools.lru_cache(maxsize=65536)
def _known_good_key(value: str) -> bool:
    """Metric loops log the same few keys millions of times: remember the ones that passed."""
    try:
        _check(value, "key", MAX_KEY_LENGTH)
    except InvalidArgument:
        return False
    return value == value.strip()
