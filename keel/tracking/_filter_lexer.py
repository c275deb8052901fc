"""Tokenize run-search filters and order_by items for :mod:`keel.tracking._filter_parser`.

Words are a letter or ``_`` followed by letters, digits, ``_ - . /``; ``params.model.depth`` has
the key ``model.depth``. Strings use ``'`` or ``"``; inside them a doubled quote, ``\\\\``, ``\\'``,
``\\"`` and ``\\```` stand for the character itself and any other backslash stays as written (so
``LIKE`` patterns keep ``\\%``). Backticks quote keys the same way. Numbers are decimal integers
or floats, optionally signed, with an optional exponent; integers must fit in 64 bits and floats
must be finite. Operators are ``= == != <> < <= > >=``; ``( ) ,`` are punctuation. Every mistake
raises :class:`~keel.errors.InvalidFilter` naming the position, built by :func:`syntax_error`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from keel.errors import InvalidFilter

__all__ = ["Token", "syntax_error", "tokenize"]

_INT64 = 2**63

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<word>[^\W\d][\w\-./]*)"
    r"|(?P<op>==|!=|<>|<=|>=|=|<|>)"
    r"|(?P<punct>[(),])"
)
_NUMBER_TAIL = re.compile(r"[\w.]")
_BAD_NUMBER = re.compile(r"[\w.+\-]+")
_ESCAPABLE = "\\'\"`"


@dataclass(frozen=True)
class Token:
    """One token of a filter or order_by item, with its position in the text."""

    kind: str
    """'word', 'number', 'string', 'backtick', 'op', '(', ')', ',' or 'end'."""
    text: str
    pos: int
    value: str | int | float = ""
    quote: str = ""

    @property
    def end(self) -> int:
        return self.pos + len(self.text)

    def is_keyword(self, *names: str) -> bool:
        return self.kind == "word" and self.text.upper() in names

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the input"
        return repr(self.text if len(self.text) <= 40 else self.text[:37] + "...")


def syntax_error(text: str, label: str, pos: int, token: str, message: str) -> InvalidFilter:
    """An :class:`~keel.errors.InvalidFilter` at ``pos``, quoting ``text`` there with a caret."""
    start, stop = max(0, pos - 40), min(len(text), pos + 40)
    snippet = "".join(c if c.isprintable() else " " for c in text[start:stop])
    before = "..." if start else ""
    after = "..." if stop < len(text) else ""
    caret = " " * (len(before) + pos - start)
    return InvalidFilter(
        f"invalid {label} at position {pos}: {message}\n  {before}{snippet}{after}\n  {caret}^",
        details={"position": pos, "token": token},
    )


def tokenize(text: str, label: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token; ``label`` names it in errors."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char in "'\"`":
            value, end = _scan_quoted(text, label, pos)
            kind = "backtick" if char == "`" else "string"
            tokens.append(Token(kind, text[pos:end], pos, value, char))
            pos = end
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise syntax_error(text, label, pos, char, f"unexpected character {char!r}")
        kind = match.lastgroup or ""
        source = match.group()
        if kind == "number":
            tokens.append(Token("number", source, pos, _number(text, label, match)))
        elif kind in ("word", "op"):
            tokens.append(Token(kind, source, pos))
        elif kind == "punct":
            tokens.append(Token(source, source, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _scan_quoted(text: str, label: str, start: int) -> tuple[str, int]:
    quote = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            following = text[pos + 1]
            chars.append(following if following in _ESCAPABLE else char + following)
            pos += 2
        elif char == quote and text.startswith(quote, pos + 1):
            chars.append(quote)
            pos += 2
        elif char == quote:
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    what = "quoted key" if quote == "`" else "string"
    message = f"unterminated {what}: no closing {quote} for the {quote} opened here"
    raise syntax_error(text, label, start, text[start : start + 40], message)


def _number(text: str, label: str, match: re.Match[str]) -> int | float:
    source, pos = match.group(), match.start()
    if _NUMBER_TAIL.match(text, match.end()):
        bad = _BAD_NUMBER.match(text, pos)
        found = bad.group() if bad else source
        raise syntax_error(text, label, pos, found, f"invalid number {found!r}")
    if any(c in source for c in ".eE"):
        number: int | float = float(source)
        if not math.isfinite(number):
            raise syntax_error(text, label, pos, source, f"number {source!r} is out of range")
        return number
    if len(source.lstrip("+-0")) > 19 or not -_INT64 <= int(source) < _INT64:
        message = f"integer {source!r} is out of the 64-bit range"
        raise syntax_error(text, label, pos, source, message)
    return int(source)
