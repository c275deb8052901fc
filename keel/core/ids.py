"""Identifiers: 32 lowercase hex characters (a uuid4), like MLflow's run ids."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return uuid.uuid4().hex
