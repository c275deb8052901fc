"""Path safety for artifact keys.

Every key reaches a store through :func:`safe_key` (or :func:`safe_prefix` for listings), which
returns the normalized relative '/'-separated key or raises
:class:`~keel.errors.InvalidArtifactPath` naming the key and the reason. The rules are strict on
purpose: a key is a name inside one store, never a way out of it.

Refused: control and format characters (NUL, newlines, bidi overrides), absolute paths, Windows
drives and UNC paths, backslashes and characters that look like '/' or '\\' (U+2215), ``..``
components and components made only of dots and spaces, ``:`` (URL schemes, drives, NTFS
streams), the URL delimiters ``;``, ``?`` and ``#``, percent-escapes of ``.``, ``/``, ``\\``,
``:`` or control bytes at any depth of decoding (``%2e%2e``, ``%252e``), anything that becomes
one of those after Unicode NFKC normalization (fullwidth dots, U+FF0E), components starting with
``.keel-`` (reserved for keel's own files), and keys longer than S3 and common filesystems allow.
``.`` components, repeated and trailing slashes are normalized away, so
``safe_key(safe_key(k)) == safe_key(k)``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath
from urllib.parse import unquote

from keel.errors import InvalidArtifactPath

__all__ = [
    "MAX_COMPONENT_BYTES",
    "MAX_KEY_BYTES",
    "RESERVED_PREFIX",
    "safe_key",
    "safe_prefix",
    "safe_relative_path",
]

MAX_KEY_BYTES = 1024
"""S3's limit on a key, in UTF-8 bytes."""
MAX_COMPONENT_BYTES = 255
"""The usual filesystem limit on one name, in UTF-8 bytes."""
RESERVED_PREFIX = ".keel-"
"""Names starting with this are keel's own (temporary files, markers)."""

_MAX_DECODE_DEPTH = 4
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_FORBIDDEN_CHARS = {
    "\\": "backslashes are not allowed (use '/')",
    ":": "':' is not allowed (URL schemes, Windows drives, NTFS streams)",
    ";": "';' is not allowed (URL path parameters)",
    "?": "'?' is not allowed (URL query)",
    "#": "'#' is not allowed (URL fragment)",
}
# Characters that some layer maps to '/' or '\\' (Unicode look-alikes; Windows "best fit"
# conversion to ANSI code pages turns U+2215 into '/').
_SEPARATOR_LOOKALIKES = frozenset("\u2044\u2215\u2216\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Escaped bytes that would smuggle a separator, a dot, a delimiter or a control character past
# the checks, plus the overlong UTF-8 lead bytes 0xC0/0xC1 (``%c0%ae`` is an old way to spell '.').
_FORBIDDEN_ESCAPED = frozenset([*range(0x20), 0x7F, *b"./\\:;?#", 0xC0, 0xC1])
_DRIVE = re.compile(r"^[A-Za-z]:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _fail(key: str, reason: str) -> InvalidArtifactPath:
    shown = repr(key) if len(key) <= 200 else repr(key[:200]) + "..."
    return InvalidArtifactPath(
        f"invalid artifact path {shown}: {reason}", details={"path": key, "reason": reason}
    )


def _check_form(key: str, text: str, how: str) -> list[str]:
    """Check one form of the key (as given, decoded or NFKC-normalized); return its components
    with '.' and empty ones dropped."""
    for position, char in enumerate(text):
        if unicodedata.category(char) in _CONTROL_CATEGORIES:
            raise _fail(key, f"control character {char!r} at position {position}{how}")
    if text.startswith(("//", "\\\\")):
        raise _fail(key, f"UNC and network paths are not allowed{how}")
    if text.startswith(("/", "\\")):
        raise _fail(key, f"absolute paths are not allowed{how}")
    if _DRIVE.match(text):
        raise _fail(key, f"Windows drive paths are not allowed{how}")
    if _SCHEME.match(text):
        raise _fail(key, f"URLs are not allowed{how}")
    for char, reason in _FORBIDDEN_CHARS.items():
        if char in text:
            raise _fail(key, reason + how)
    for position, char in enumerate(text):
        if char in _SEPARATOR_LOOKALIKES:
            raise _fail(key, f"{char!r} at position {position} looks like a path separator{how}")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    for part in parts:
        if part == "..":
            raise _fail(key, f"'..' components are not allowed{how}")
        if not part.strip(". "):
            raise _fail(key, f"component {part!r} is made only of dots and spaces{how}")
        if part.startswith(RESERVED_PREFIX):
            raise _fail(key, f"names starting with {RESERVED_PREFIX!r} are reserved{how}")
    return parts


def _decodings(key: str, text: str) -> list[str]:
    """``text`` percent-decoded repeatedly until stable (every step included), refusing escapes
    of dangerous bytes at any depth."""
    forms: list[str] = []
    for _ in range(_MAX_DECODE_DEPTH):
        for match in _ESCAPE.finditer(text):
            if int(match.group(1), 16) in _FORBIDDEN_ESCAPED:
                raise _fail(key, f"percent-encoded {match.group(0)!r} is not allowed")
        decoded = unquote(text, errors="replace")
        if decoded == text:
            return forms
        forms.append(decoded)
        text = decoded
    raise _fail(key, f"percent-encoding nested more than {_MAX_DECODE_DEPTH} levels deep")


def _normalize(key: object, *, allow_empty: bool) -> str:
    if not isinstance(key, str):
        raise InvalidArtifactPath(
            f"artifact path must be a string, got {type(key).__name__}",
            details={"path": repr(key), "reason": "not a string"},
        )
    parts = _check_form(key, key, "")
    # The same rules on every other form some layer might turn the key into.
    nfkc = unicodedata.normalize("NFKC", key)
    for base, label in ((key, ""), (nfkc, " after NFKC normalization")):
        if label:
            _check_form(key, base, label)
        for decoded in _decodings(key, base):
            _check_form(key, decoded, label + " after percent-decoding")
            normalized = unicodedata.normalize("NFKC", decoded)
            if normalized != decoded:
                _check_form(key, normalized, " after percent-decoding and NFKC normalization")
    for part in parts:
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise _fail(key, f"a component is longer than {MAX_COMPONENT_BYTES} bytes")
    result = "/".join(parts)
    if not result and not allow_empty:
        raise _fail(key, "the path is empty")
    if len(result.encode("utf-8")) > MAX_KEY_BYTES:
        raise _fail(key, f"the path is longer than {MAX_KEY_BYTES} bytes")
    return result


def safe_key(key: str) -> str:
    """The normalized key naming a file or directory, or InvalidArtifactPath.

    >>> safe_key("models/./v1/model.onnx/")
    'models/v1/model.onnx'
    """
    return _normalize(key, allow_empty=False)


def safe_prefix(prefix: str) -> str:
    """As :func:`safe_key`, but '' (and '.') mean the root and give ''."""
    return _normalize(prefix, allow_empty=True)


def safe_relative_path(path: PurePath | str) -> str:
    """The key for a relative local path (split with the local separator), e.g. a file's path
    below a directory being uploaded. Absolute paths and '..' are refused like in keys."""
    pure = PurePath(path)
    if pure.is_absolute() or pure.anchor:
        raise _fail(str(path), "absolute paths are not allowed")
    return safe_key("/".join(pure.parts))
