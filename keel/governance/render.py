"""Model cards and datasheets as Markdown, standalone HTML and JSON-able dicts.

Markdown starts with a YAML front matter block in the style of Hugging Face model cards
(``model_name``, ``model_version``, ``library_name``, ``license``, ``tags``, ``datasets``,
``metrics``, plus a ``keel`` mapping with the URI, metric values and documentation gaps). HTML is
one self-contained page: inline CSS, no scripts, no external assets, every text escaped.
"""

from __future__ import annotations

import dataclasses
import enum
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from keel.governance._blocks import Section
from keel.governance._documents import card_sections, datasheet_sections, fmt_time
from keel.governance.models import Datasheet, ModelCard

__all__ = [
    "card_to_dict",
    "card_to_html",
    "card_to_markdown",
    "datasheet_to_dict",
    "datasheet_to_html",
    "datasheet_to_markdown",
]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1f2328; line-height: 1.5; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
thead th, table.fields th { background: #f6f8fa; }
.gap { background: #fff8c5; border-left: 4px solid #d4a72c; padding: .4rem .6rem; }
.empty { color: #656d76; font-style: italic; }
code { background: #f6f8fa; padding: 0 .2rem; }
""".strip()


# -- model cards ------------------------------------------------------------------------------


def card_to_dict(card: ModelCard) -> dict[str, Any]:
    """The card as plain JSON types (non-finite floats as ``"NaN"``/``"Infinity"`` strings)."""
    out: dict[str, Any] = _plain(card)
    return out


def card_front_matter(card: ModelCard) -> dict[str, Any]:
    d = card.details
    matter: dict[str, Any] = {
        "model_name": d.name,
        "model_version": d.version,
        "library_name": d.flavor,
    }
    if d.license:
        matter["license"] = d.license
    matter["tags"] = ["keel", *(f"{k}:{v}" for k, v in sorted(d.tags.items()) if k != "license")]
    matter["datasets"] = sorted({f"{ds.name}:{ds.version}" for ds in card.datasets})
    matter["metrics"] = list(card.metrics.overall)
    matter["keel"] = {
        "uri": d.uri,
        "source": d.source,
        "run_id": card.lineage.run_id,
        "code_commit": d.code_commit,
        "model_digest": d.model_digest,
        "registered_at": fmt_time(d.version_created_at),
        "aliases": list(d.aliases),
        "metric_values": _plain(card.metrics.overall),
        "gaps": list(card.gaps),
    }
    return matter


def card_to_markdown(card: ModelCard) -> str:
    return _markdown(card_front_matter(card), card_sections(card))


def card_to_html(card: ModelCard) -> str:
    d = card.details
    return _html(f"Model card: {d.name} v{d.version}", card_sections(card))


# -- datasheets -------------------------------------------------------------------------------


def datasheet_to_dict(sheet: Datasheet) -> dict[str, Any]:
    out: dict[str, Any] = _plain(sheet)
    return out


def datasheet_to_markdown(sheet: Datasheet) -> str:
    matter = {
        "dataset_name": sheet.name,
        "dataset_version": sheet.version,
        "dataset_version_id": sheet.dataset_version_id,
        "digest": sheet.digest,
        "num_rows": sheet.num_rows,
        "columns": [c.name for c in sheet.columns],
        "splits": dict(sheet.splits),
        "models": [f"{m.name}:{m.version}" for m in sheet.models],
    }
    return _markdown(matter, datasheet_sections(sheet))


def datasheet_to_html(sheet: Datasheet) -> str:
    return _html(f"Datasheet: {sheet.name} v{sheet.version}", datasheet_sections(sheet))


# -- shared -----------------------------------------------------------------------------------


def _markdown(front_matter: Mapping[str, Any], sections: Sequence[Section]) -> str:
    matter = yaml.safe_dump(dict(front_matter), sort_keys=False, allow_unicode=True)
    body = "\n\n".join(s.markdown() for s in sections)
    return f"---\n{matter}---\n\n{body}\n"


def _html(title: str, sections: Sequence[Section]) -> str:
    body = "\n".join(s.html() for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"nan": "NaN", "inf": "Infinity"}.get(
            repr(value), "-Infinity")
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)
