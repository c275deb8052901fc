"""The CLI reference in Markdown, generated from the commands themselves (docs/cli.md)."""

from __future__ import annotations

from typing import Any

import typer.main


def _walk(command: Any, path: list[str]) -> list[str]:
    # Duck-typed: Typer ships its own copy of click's classes.
    lines: list[str] = []
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            lines += _walk(command.commands[name], [*path, name])
        return lines
    ctx = command.context_class(command, info_name=" ".join(path))
    lines += [f"## `{' '.join(path)}`", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [help_text, ""]
    lines += ["```", command.get_usage(ctx).strip(), "```", ""]
    rows = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None and param.param_type_name == "argument":
            record = (param.human_readable_name, "")
        if record is None or "--help" in record[0]:
            continue
        rows.append(f"| `{record[0]}` | {record[1].replace('|', '/')} |")
    if rows:
        lines += ["| argument / option | meaning |", "|---|---|", *rows, ""]
    return lines


def render_reference() -> str:
    from keel.cli import app

    root = typer.main.get_command(app)
    header = [
        "# CLI reference",
        "",
        "Generated from the code by `python -m keel.cli.reference > docs/cli.md`; a test checks",
        "that this page matches the CLI. Every command is `keel <noun> <verb>`; listings take",
        "`--json`. Global options: `keel --database-url URL --artifacts-url URL <noun> <verb>`.",
        "Errors print one line on stderr and exit with status 1.",
        "",
    ]
    return "\n".join(header + _walk(root, ["keel"])).rstrip() + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
