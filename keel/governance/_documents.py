"""Cards and datasheets as sections of blocks, ready for the Markdown and HTML writers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from keel.governance._blocks import Block, Empty, Fields, Gap, Labeled, Section, Table, Text
from keel.governance.models import ColumnStats, Datasheet, ModelCard

__all__ = ["card_sections", "datasheet_sections", "fmt", "fmt_time"]

HUMAN_TITLES = {
    "intended_use": "Intended use",
    "out_of_scope": "Out-of-scope uses",
    "limitations": "Limitations",
    "ethical_considerations": "Ethical considerations",
}
NONE = "—"


def fmt_time(ms: int | None) -> str:
    if ms is None:
        return NONE
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _table_or_empty(columns: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> Block:
    return Table(columns, rows) if rows else Empty(empty)


def columns_table(columns: Sequence[ColumnStats]) -> Block:
    return _table_or_empty(
        ["column", "type", "nullable", "count", "null fraction", "min", "max", "mean", "std",
         "distinct"],
        [[c.name, c.type, fmt(c.nullable), fmt(c.count), fmt(c.null_fraction), fmt(c.min),
          fmt(c.max), fmt(c.mean), fmt(c.std), fmt(c.distinct)] for c in columns],
        "No schema recorded.",
    )


def card_sections(card: ModelCard) -> list[Section]:
    d = card.details
    fill = f"keel models card {d.name} --version {d.version} --set"
    details = Fields([
        ("Name", d.name), ("Version", str(d.version)), ("URI", d.uri),
        ("Owner", d.owner), ("Registered by", d.registered_by),
        ("Model created", fmt_time(d.model_created_at)),
        ("Version registered", fmt_time(d.version_created_at)),
        ("Last updated", fmt_time(d.version_updated_at)),
        ("Flavor", fmt(d.flavor)), ("Model digest", fmt(d.model_digest)),
        ("Code commit", fmt(d.code_commit)), ("Aliases", ", ".join(d.aliases) or NONE),
        ("License", fmt(d.license)),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(d.tags.items())) or NONE),
        ("Documentation gaps", ", ".join(card.gaps) or "none"),
    ])
    top: list[Block] = [Text(d.description)] if d.description else []
    sections = [Section(f"Model card: {d.name} v{d.version}", [*top, details], level=1)]
    if d.signature is not None:
        sections.append(Section("Signature", [Fields([("Signature", fmt(dict(d.signature)))])]))

    human: list[Block] = []
    for field, title in HUMAN_TITLES.items():
        text = getattr(card.human, field)
        source = card.human_sources.get(field)
        blocks: list[Block] = [Gap(f"{fill} {field}=…")]
        if field not in card.gaps:
            blocks = [Text(text)]
            if source == "version":
                blocks.append(Empty("Set for this version."))
        human.append(Section(title, blocks, level=3))
    sections.append(Section("Uses and limitations", human))

    sections.append(Section("Parameters", [_table_or_empty(
        ["param", "value"], [[k, fmt(v)] for k, v in card.params.items()],
        "No parameters recorded.")]))

    data: list[Block] = [] if card.datasets else [Empty("No dataset versions recorded.")]
    for ds in card.datasets:
        data.append(Section(f"{ds.name} v{ds.version} ({ds.context})", [
            Fields([("Dataset version id", ds.dataset_version_id), ("Context", ds.context),
                    ("Rows", str(ds.num_rows)), ("Columns", str(len(ds.columns))),
                    ("Digest", ds.digest), ("Source", fmt(ds.source)),
                    ("Created", fmt_time(ds.created_at))]),
            columns_table(ds.columns),
        ], level=3))
    sections.append(Section("Training and evaluation data", data))

    m = card.metrics
    metric_blocks: list[Block] = [_table_or_empty(
        ["metric", "value"], [[k, fmt(v)] for k, v in m.overall.items()],
        "No metrics recorded.")]
    if m.slices:
        names = sorted({k for s in m.slices for k in s.metrics})
        metric_blocks.append(Section("Per-slice metrics", [Table(
            ["slice", *names],
            [[s.slice, *(fmt(s.metrics.get(n)) for n in names)] for s in m.slices],
        )], level=3))
    sections.append(Section("Metrics", metric_blocks))

    lin = card.lineage
    sections.append(Section("Lineage", [Fields([
        ("Run", fmt(lin.run_id)), ("Run name", fmt(lin.run_name)),
        ("Experiment", fmt(lin.experiment_id)), ("Parent run", fmt(lin.parent_run_id)),
        ("Source", lin.source), ("Code commit", fmt(lin.code_commit)),
        ("Model digest", fmt(lin.model_digest)),
        ("Dataset versions", ", ".join(lin.dataset_version_ids) or NONE),
    ])]))

    sections.append(Section("Approval history", [
        _table_or_empty(
            ["target", "state", "round", "requested by", "requested at", "decisions"],
            [[a.target, a.state.value, str(a.round), fmt(a.requested_by),
              fmt_time(a.requested_at),
              "; ".join(f"{x.decision.value} by {x.actor} at {fmt_time(x.at)}"
                        + (f" ({x.reason})" if x.reason else "") for x in a.decisions) or NONE]
             for a in card.approvals],
            "No approvals requested."),
        Section("Gate evaluations", [_table_or_empty(
            ["target", "gate", "passed", "message", "by", "at"],
            [[g.target, g.gate_id, fmt(g.passed), g.message, g.evaluated_by, fmt_time(g.at)]
             for g in card.gate_evaluations],
            "No gates evaluated.")], level=3),
    ]))

    sections.append(Section("Alias history", [_table_or_empty(
        ["alias", "from", "to", "by", "at", "reason"],
        [[f"@{a.alias}", fmt(a.from_version), fmt(a.to_version), a.actor, fmt_time(a.at),
          fmt(a.reason)] for a in card.alias_history],
        "No alias has been set.")]))

    names = sorted({k for row in card.performance_history for k in row.metrics})
    sections.append(Section("Performance history", [_table_or_empty(
        ["version", "registered", "aliases", *names],
        [[f"v{r.version}", fmt_time(r.created_at), ", ".join(r.aliases) or NONE,
          *(fmt(r.metrics.get(n)) for n in names)] for r in card.performance_history],
        "No versions.")]))

    decisions: list[Block] = [] if card.decisions else [Empty("No decisions logged.")]
    for entry in card.decisions:
        scope = "the model" if entry.version is None else f"v{entry.version}"
        decisions.append(Section(f"{fmt_time(entry.date)[:10]} — {entry.title}", [
            Fields([("Author", entry.author), ("Date", fmt_time(entry.date)),
                    ("Applies to", scope)]),
            Labeled("Context", entry.context), Labeled("Decision", entry.decision),
            Labeled("Consequences", entry.consequences),
        ], level=3))
    sections.append(Section("Decision log", decisions))
    if card.notes:
        sections.append(Section("Notes", [Fields([("Note", n) for n in card.notes])]))
    sections.append(Section("About this card", [Empty(
        f"Generated by keel at {fmt_time(card.generated_at)} from the registry, the run and "
        "the dataset versions; only the uses-and-limitations fields are written by people.")]))
    return sections


def datasheet_sections(sheet: Datasheet) -> list[Section]:
    return [
        Section(f"Datasheet: {sheet.name} v{sheet.version}", [Fields([
            ("Dataset version id", sheet.dataset_version_id), ("Name", sheet.name),
            ("Version", str(sheet.version)), ("Digest", sheet.digest),
            ("Source", fmt(sheet.source)), ("Created", fmt_time(sheet.created_at)),
        ])], level=1),
        Section("Composition", [Fields([
            ("Rows", str(sheet.num_rows)), ("Columns", str(len(sheet.columns))),
        ])]),
        Section("Schema and statistics", [columns_table(sheet.columns)]),
        Section("Splits", [_table_or_empty(
            ["context", "runs"], [[k, str(v)] for k, v in sheet.splits.items()],
            "No run has used this version.")]),
        Section("Runs that used it", [_table_or_empty(
            ["run", "context"], [[u.run_id, u.context] for u in sheet.runs],
            "No run has used this version.")]),
        Section("Models built from it", [_table_or_empty(
            ["model", "version", "aliases", "run"],
            [[m.name, f"v{m.version}", ", ".join(m.aliases) or NONE, fmt(m.run_id)]
             for m in sheet.models],
            "No registered model version was built from it.")]),
        Section("Other versions of this dataset", [_table_or_empty(
            ["version", "digest", "rows", "created"],
            [[f"v{v}", digest, str(rows), fmt_time(at)]
             for v, digest, rows, at in sheet.other_versions],
            "No other versions.")]),
        Section("About this datasheet", [Empty(
            f"Generated by keel at {fmt_time(sheet.generated_at)} from the dataset version's "
            "stored schema, profile and lineage.")]),
    ]
