"""What every CLI command shares: opening the client, rendering, and one-line errors."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.app import Keel
from keel.config import load_settings
from keel.errors import KeelError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


@dataclasses.dataclass
class CliState:
    database_url: str | None = None
    artifacts_url: str | None = None
    _client: Keel | None = None

    def client(self) -> Keel:
        if self._client is None:
            overrides: dict[str, Any] = {}
            if self.database_url:
                overrides["database_url"] = self.database_url
            if self.artifacts_url:
                overrides["artifacts_url"] = self.artifacts_url
            # The CLI shows what is stored; it records no environment of its own.
            self._client = Keel(load_settings(**overrides))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
        ctx.find_root().obj = obj
    return obj


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """A KeelError becomes one line on stderr and exit code 1."""
    try:
        yield
    except KeelError as exc:
        # One line: the first line of the message (a filter error's caret drawing follows it).
        first = exc.message.strip().splitlines()[0] if exc.message.strip() else exc.code
        err_console.print(f"[red]error:[/red] {escape(first)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def fmt_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def fmt_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def render_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    highlight: Callable[[int], bool] | None = None,
) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        # Everything stays on one line so ids can be copied and numbers keep their digits; only
        # free text (names, sources, tags) gives way, cut with an ellipsis.
        text = column in ("name", "source", "tags", "value", "model")
        table.add_column(column, no_wrap=not text, overflow="ellipsis" if text else "fold",
                         min_width=8 if text else None)
    for index, row in enumerate(rows):
        style = "yellow" if highlight is not None and highlight(index) else None
        table.add_row(*[fmt_value(v) for v in row], style=style)
    console.print(table)


def parse_pairs(pairs: Sequence[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            err_console.print(f"[red]error:[/red] {what} {pair!r} must look like key=value")
            raise typer.Exit(2)
        out[key] = value
    return out
