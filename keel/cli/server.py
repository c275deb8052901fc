"""keel server: the control plane (REST API, MLflow-compatible API, artifact proxy)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import typer

from keel.cli._common import errors_to_exit, state
from keel.config import Settings, export_settings, load_settings
from keel.errors import InvalidArgument

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, auth: bool, insecure_no_auth: bool) -> None:
    """Authentication may be off only on loopback, unless explicitly waived."""
    if auth and insecure_no_auth:
        raise InvalidArgument("--auth and --insecure-no-auth contradict each other")
    if not auth and not insecure_no_auth and not is_loopback(host):
        raise InvalidArgument(
            f"refusing to serve {host} without authentication: anyone who can reach it could "
            "read and change every experiment and model. Use --auth (create an admin first: "
            "keel users create NAME --admin), or --insecure-no-auth on a network you trust."
        )


def check_admin_exists(settings: Settings) -> None:
    """With authentication on, someone must be able to sign in as admin: there is no default
    account and no default password."""
    from keel.app import Keel

    with Keel(settings) as keel:
        admins = [a for a in keel.auth.list_accounts() if a.is_admin and not a.disabled]
    if not admins:
        raise InvalidArgument(
            "--auth needs an admin account, and there is none: create one with "
            "`keel users create NAME --admin` (keel ships no default account or password)"
        )


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    database_url: Annotated[
        str | None, typer.Option(help="Metadata store URL (default: KEEL_DATABASE_URL or .keel/).")
    ] = None,
    artifacts_url: Annotated[
        str | None, typer.Option(help="Artifact store URL (default: KEEL_ARTIFACTS_URL or .keel/).")
    ] = None,
    auth: Annotated[
        bool, typer.Option("--auth", help="Require authentication (accounts and tokens).")
    ] = False,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth",
                           help="Serve a non-loopback address without authentication.")
    ] = False,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Origin allowed to call the API from a browser "
                                            "(repeatable). Default: CORS off.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run keel server: keel's REST API (/api/v1), the MLflow-compatible API (/api/2.0/mlflow,
    /api/2.0/mlflow-artifacts, /api/3.0/mlflow), the artifact proxy, /health and /metrics."""
    import uvicorn

    from keel.api._main import app_from_settings
    from keel.api._serve import uvicorn_config

    with errors_to_exit():
        cli = state(ctx)
        overrides: dict[str, Any] = {"server_auth": auth or load_settings().server_auth}
        if database_url or cli.database_url:
            overrides["database_url"] = database_url or cli.database_url
        if artifacts_url or cli.artifacts_url:
            overrides["artifacts_url"] = artifacts_url or cli.artifacts_url
        if cors_origin:
            overrides["server_cors_origins"] = ",".join(cors_origin)
        settings = load_settings(**overrides)
        check_exposure(host, settings.server_auth, insecure_no_auth)
        if settings.server_auth:
            check_admin_exists(settings)
        where = f"http://{host}:{port}"
        typer.echo(f"keel server on {where} (auth {'on' if settings.server_auth else 'off'}; "
                   f"metadata {settings.resolved_database_url()}; artifacts "
                   f"{settings.resolved_artifacts_url()})", err=True)
        if workers == 1:
            config = uvicorn_config(app_from_settings(settings), host, port, log_level=log_level)
        else:
            # Each worker process builds its own app from the same settings.
            export_settings(settings)
            config = uvicorn_config("keel.api._main:app_from_settings", host, port,
                                    factory=True, workers=workers, log_level=log_level)
    if config.workers > 1:
        # uvicorn's supervisor: one socket, N worker processes, each calling the factory.
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
