"""The process state behind the module-level API, and nothing else.

Two pieces: the current client (made by ``keel.connect()``, or on first use from the ``KEEL_*``
settings) and, per thread, the stack of active runs. Code that wants no hidden state uses a
``Keel`` client directly.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from typing import TYPE_CHECKING, Any

from keel.app import Keel
from keel.config import load_settings
from keel.errors import KeelError
from keel.tracking.models import RunStatus

if TYPE_CHECKING:
    from keel._active_run import ActiveRun


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


class _Session:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client: Keel | None = None
        self.runs = _State()
        self.exit_hook = False


def _end_runs_at_exit() -> None:
    """Runs still active when the interpreter exits end FINISHED, innermost first (registered
    after the client, so it runs before the client's own flush-and-close hook)."""
    for run in reversed(list(_session.runs.stack)):
        with contextlib.suppress(KeelError):
            run.end(RunStatus.FINISHED)


_session = _Session()


def connect(url: str | None = None, *, artifacts_url: str | None = None, **settings: Any) -> Keel:
    """Open a keel client and make it the one the module-level functions use.

    ``url`` is a metadata store URL (``sqlite:///…``, ``postgresql+psycopg://…``); by default the
    ``KEEL_*`` settings decide (the embedded ``.keel/`` store in the working directory). Other
    keyword arguments override settings by name.
    """
    overrides = dict(settings)
    if url is not None:
        if url.startswith(("http://", "https://")):
            overrides["tracking_url"] = url
        else:
            overrides["database_url"] = url
    if artifacts_url is not None:
        overrides["artifacts_url"] = artifacts_url
    client = Keel(load_settings(**overrides))
    with _session.lock:
        previous, _session.client = _session.client, client
    if previous is not None and previous is not client:
        previous.close()
    return client


def client() -> Keel:
    """The current client, opened from the settings on first use."""
    with _session.lock:
        if _session.client is None:
            _session.client = Keel(load_settings())
        return _session.client


def disconnect() -> None:
    """Close the current client (flushing its metrics) and forget it."""
    with _session.lock:
        current, _session.client = _session.client, None
    _session.runs.stack.clear()
    if current is not None:
        current.close()


def register_exit_hook() -> None:
    """End runs left active at exit; registered after the first client exists, so it runs
    before that client's own flush-and-close hook (atexit runs hooks last-in, first-out)."""
    with _session.lock:
        if not _session.exit_hook:
            _session.exit_hook = True
            atexit.register(_end_runs_at_exit)
