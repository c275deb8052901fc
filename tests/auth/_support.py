"""Shared pieces of the auth tests: a controllable clock and a nothing-changed check."""

from __future__ import annotations

import pytest

from keel.backends.sql import SqlMetadataStore
from keel.errors import KeelError

PASSWORD = "correct horse battery staple"
INVALID = r"^invalid credentials$"


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000_000

    def __call__(self) -> int:
        return self.now


def unchanged(store: SqlMetadataStore, call: object, error: type[KeelError]) -> KeelError:
    """Run ``call``, expect ``error``, and check that nothing was written."""
    head, accounts = store.registry.audit.get_chain_head(), store.auth.list_accounts()
    tokens, grants = store.auth.list_tokens(), store.auth.list_grants()
    with pytest.raises(error) as caught:
        call()  # type: ignore[operator]
    assert store.registry.audit.get_chain_head() == head
    assert store.auth.list_accounts() == accounts
    assert (store.auth.list_tokens(), store.auth.list_grants()) == (tokens, grants)
    return caught.value
