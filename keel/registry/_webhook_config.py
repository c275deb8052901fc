"""Webhook targets from a file (YAML or JSON), so secrets never travel in environment strings,
and the delivery cursor kept between runs."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from keel.errors import InvalidArgument


def load_targets(path: Path) -> list[Any]:
    """``[{url, secret, event_types?}, ...]`` from a YAML or JSON file, as WebhookTargets."""
    from keel.registry.webhooks import WebhookTarget

    if not path.is_file():
        raise InvalidArgument(f"webhook targets file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    if not isinstance(data, list):
        raise InvalidArgument(f"{path}: expected a list of targets, got {type(data).__name__}")
    targets = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not {"url", "secret"} <= set(item):
            raise InvalidArgument(f"{path}: target {index} needs 'url' and 'secret'")
        unknown = set(item) - {"url", "secret", "event_types"}
        if unknown:
            raise InvalidArgument(f"{path}: target {index} has unknown keys {sorted(unknown)}")
        targets.append(WebhookTarget(str(item["url"]), str(item["secret"]),
                                     item.get("event_types")))
    return targets


def read_cursor(path: Path) -> int:
    if not path.exists():
        return 0
    text = path.read_text().strip()
    if not text.isdigit():
        raise InvalidArgument(f"webhook cursor file {path} holds {text!r}, not a sequence number")
    return int(text)


def write_cursor(path: Path, cursor: int) -> None:
    """Atomically: a crash leaves the old cursor (events are then re-sent, with the same
    delivery ids, which receivers use to drop duplicates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cursor-")
    with os.fdopen(fd, "w") as fh:
        fh.write(str(cursor))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
