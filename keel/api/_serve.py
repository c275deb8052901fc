"""Running the app: ``run_server`` for ``keel server`` (uvicorn, in the foreground) and
``serve_in_thread`` for tests and benchmarks that need a live server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from keel.errors import BackendUnavailable


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_config(app: FastAPI | str, host: str, port: int, **options: object) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level=str(options.pop("log_level", "warning")),
        access_log=bool(options.pop("access_log", False)), server_header=False,
        date_header=True, timeout_graceful_shutdown=10, **options,  # type: ignore[arg-type]
    )


@contextmanager
def serve_in_thread(
    app: FastAPI, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields its base URL and stops it on exit."""
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn_config(app, host, port))
    thread = threading.Thread(target=server.run, name=f"keel-server-{port}", daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started:
            started.set()
            break
        if not thread.is_alive():
            break
        thread.join(0.01)
    if not started.is_set():
        server.should_exit = True
        thread.join(5)
        raise BackendUnavailable(f"keel server on {host}:{port} did not start")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
