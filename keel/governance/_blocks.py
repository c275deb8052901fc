"""A tiny document model shared by the Markdown and HTML renderers.

Cards and datasheets are first turned into sections of blocks (:mod:`keel.governance._documents`)
and each block knows how to write itself as Markdown and as HTML, so both formats always show
the same content. In HTML every piece of text goes through ``html.escape``; in Markdown, text
written by people is passed as is (it is Markdown), and table cells are kept on one line.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Block", "Empty", "Fields", "Gap", "Labeled", "Section", "Table", "Text"]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _md_cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split()) or " "


@dataclass(frozen=True)
class Text:
    """A paragraph of text (written by a person: Markdown as is, escaped in HTML)."""

    text: str

    def markdown(self) -> str:
        return self.text.strip()

    def html(self) -> str:
        paragraphs = [p for p in self.text.strip().split("\n\n") if p.strip()]
        return "\n".join(f"<p>{_e(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


@dataclass(frozen=True)
class Labeled:
    """A labelled paragraph: ``**Context.** text``."""

    label: str
    text: str

    def markdown(self) -> str:
        return f"**{self.label}.** {self.text.strip()}"

    def html(self) -> str:
        body = _e(self.text.strip()).replace("\n", "<br>")
        return f"<p><strong>{_e(self.label)}.</strong> {body}</p>"


@dataclass(frozen=True)
class Empty:
    """Nothing recorded for this part."""

    text: str

    def markdown(self) -> str:
        return f"_{self.text}_"

    def html(self) -> str:
        return f'<p class="empty">{_e(self.text)}</p>'


@dataclass(frozen=True)
class Gap:
    """A field only a person can write, not written yet, with the command that fills it in."""

    command: str

    def markdown(self) -> str:
        return f"_Not documented yet — fill in with `{self.command}`_"

    def html(self) -> str:
        command = _e(self.command)
        return f'<p class="gap">Not documented yet — fill in with <code>{command}</code></p>'


@dataclass(frozen=True)
class Fields:
    """Label/value pairs."""

    rows: Sequence[tuple[str, str]]

    def markdown(self) -> str:
        return "\n".join(f"- **{label}:** {_md_cell(value)}" for label, value in self.rows)

    def html(self) -> str:
        items = "".join(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>"
                        for label, value in self.rows)
        return f'<table class="fields">{items}</table>'


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]

    def markdown(self) -> str:
        lines = ["| " + " | ".join(_md_cell(c) for c in self.columns) + " |",
                 "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)

    def html(self) -> str:
        head = "".join(f"<th>{_e(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class Section:
    title: str
    blocks: Sequence[Block]
    level: int = 2

    def markdown(self) -> str:
        parts = [f"{'#' * self.level} {self.title}"]
        parts += [b.markdown() for b in self.blocks]
        return "\n\n".join(parts)

    def html(self) -> str:
        level = min(self.level, 6)
        parts = [f"<h{level}>{_e(self.title)}</h{level}>"] + [b.html() for b in self.blocks]
        return "<section>\n" + "\n".join(parts) + "\n</section>"


Block = Text | Labeled | Empty | Gap | Fields | Table | Section
