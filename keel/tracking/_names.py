"""Generated run names: 'adjective-noun-123', readable in tables and easy to say aloud."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager", "fair",
    "gentle", "glad", "golden", "grand", "happy", "honest", "keen", "kind", "lively", "lucid",
    "merry", "mighty", "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid", "sharp",
    "shy", "silver", "smart", "snowy", "steady", "sunny", "swift", "tidy", "vivid", "wise",
)
_NOUNS = (
    "albatross", "badger", "beaver", "bison", "crane", "dolphin", "eagle", "falcon", "ferret",
    "finch", "fox", "gecko", "gull", "hare", "heron", "ibis", "jay", "koala", "lark", "lemur",
    "lynx", "marten", "moose", "newt", "otter", "owl", "panda", "puffin", "quail", "raven",
    "robin", "salmon", "seal", "shrike", "stoat", "swan", "tern", "trout", "wolf", "wren",
)


def generate_run_name() -> str:
    return (
        f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000):03d}"
    )
