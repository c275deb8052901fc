"""Every keel setting, declared once.

Each setting has a name, a type, a default and a help text, and is read from the environment
variable ``KEEL_<NAME>``. This is the only module in keel that reads ``os.environ``: everything
else receives a frozen :class:`Settings` explicitly. ``docs/configuration.md`` documents each
setting, and a test fails when one is missing there.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.errors import InvalidArgument

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings"]


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    group: str = "core"

    @property
    def env_var(self) -> str:
        return "KEEL_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("home", str, ".keel", "Directory of the embedded default store, relative to the "
            "working directory unless absolute."),
    Setting("database_url", str, None, "Metadata store URL: sqlite:///path or "
            "postgresql+psycopg://user@host/db. Default: sqlite in <home>/keel.db."),
    Setting("artifacts_url", str, None, "Artifact store URL: a local path, file:///path or "
            "s3://bucket/prefix. Default: <home>/artifacts."),
    Setting("tracking_url", str, None, "URL of a keel server (http://host:5000). When set, "
            "the Python API talks to that server instead of opening stores itself."),
    Setting("tracking_token", str, None, "API token sent to the keel server "
            "(`Authorization: Bearer`).", group="server"),
    Setting("tracking_username", str, None, "Account name for HTTP basic auth to the keel "
            "server (with `KEEL_TRACKING_PASSWORD`; a token also works as the password).",
            group="server"),
    Setting("tracking_password", str, None, "Password (or token) for HTTP basic auth to the "
            "keel server.", group="server"),
    Setting("server_auth", bool, False, "`keel server`: require authentication (accounts and "
            "tokens in the metadata store). Off is allowed only on a loopback address.",
            group="server"),
    Setting("server_max_body_mb", int, 64, "`keel server`: largest JSON request body, in MiB "
            "(413 beyond).", group="server"),
    Setting("server_max_artifact_mb", int, 51_200, "`keel server`: largest artifact upload, "
            "in MiB (413 beyond).", group="server"),
    Setting("server_cors_origins", str, None, "`keel server`: comma-separated origins allowed "
            "to call the API from a browser. Unset: CORS off.", group="server"),
    Setting("http_timeout", float, 60.0, "Seconds keel's HTTP client waits for the server.",
            group="server"),
    Setting("s3_endpoint_url", str, None, "Endpoint of an S3-compatible service (MinIO, moto, "
            "Ceph) for s3:// artifact URLs.", group="artifacts"),
    Setting("metric_flush_interval", float, 1.0, "Seconds between background flushes of "
            "buffered metrics.", group="tracking"),
    Setting("metric_flush_size", int, 10_000, "Buffered metrics that trigger an immediate "
            "flush.", group="tracking"),
    Setting("sqlite_busy_timeout", float, 60.0, "Seconds a SQLite writer waits for the write "
            "lock before failing.", group="metadata"),
    Setting("capture_git", bool, True, "Record git commit, branch and dirty flag on every "
            "run.", group="tracking"),
    Setting("capture_git_diff", bool, True, "Store the uncommitted git diff as a run artifact "
            "when the tree is dirty.", group="tracking"),
    Setting("capture_packages", bool, True, "Store installed package versions as a "
            "requirements artifact on every run.", group="tracking"),
    Setting("capture_system", bool, True, "Record Python version, platform, hostname, user, "
            "entry point and command line on every run.", group="tracking"),
    Setting("user", str, None, "Name recorded as the author of runs. Default: the login "
            "name."),
    Setting("webhook_allowlist", str, None, "Comma-separated URL prefixes webhook targets must "
            "start with (https, or http on loopback). Targets outside it are refused.",
            group="webhooks"),
    Setting("webhook_targets", str, None, "Path to a YAML or JSON file listing webhook targets: "
            "[{url, secret, event_types}]. Secrets stay in the file, not in the environment.",
            group="webhooks"),
    Setting("webhook_max_attempts", int, 5, "Delivery attempts per event and target (network "
            "errors, 5xx and 429 are retried with exponential backoff).", group="webhooks"),
    Setting("webhook_timeout", float, 5.0, "Seconds one webhook request may take.",
            group="webhooks"),
    Setting("require_services", bool, False, "Tests: fail instead of skipping when PostgreSQL "
            "or Redis is unreachable (CI sets it).", group="testing"),
    Setting("test_postgres_url", str, None, "Tests: PostgreSQL server used by the postgres "
            "tests, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test.",
            group="testing"),
    Setting("test_redis_url", str, None, "Tests: Redis server used by the redis tests.",
            group="testing"),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse(setting: Setting, raw: str) -> Any:
    try:
        if setting.type is bool:
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if setting.type is int:
            return int(raw)
        if setting.type is float:
            return float(raw)
        return raw
    except ValueError:
        raise InvalidArgument(
            f"{setting.env_var}={raw!r} is not a valid {setting.type.__name__}",
            details={"setting": setting.name},
        ) from None


@dataclass(frozen=True)
class Settings:
    home: str = ".keel"
    database_url: str | None = None
    artifacts_url: str | None = None
    tracking_url: str | None = None
    tracking_token: str | None = field(default=None, repr=False)
    tracking_username: str | None = None
    tracking_password: str | None = field(default=None, repr=False)
    http_timeout: float = 60.0
    server_auth: bool = False
    server_max_body_mb: int = 64
    server_max_artifact_mb: int = 51_200
    server_cors_origins: str | None = None
    s3_endpoint_url: str | None = None
    metric_flush_interval: float = 1.0
    metric_flush_size: int = 10_000
    sqlite_busy_timeout: float = 60.0
    capture_git: bool = True
    capture_git_diff: bool = True
    capture_packages: bool = True
    capture_system: bool = True
    user: str | None = None
    webhook_allowlist: str | None = None
    webhook_targets: str | None = None
    webhook_max_attempts: int = 5
    webhook_timeout: float = 5.0
    require_services: bool = False
    test_postgres_url: str | None = None
    test_redis_url: str | None = None

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - set(_BY_NAME)
        if unknown:
            raise InvalidArgument(
                f"unknown setting(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(_BY_NAME))}"
            )
        return dataclasses.replace(self, **changes)

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().absolute()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_path / 'keel.db'}"

    def resolved_artifacts_url(self) -> str:
        if self.artifacts_url:
            return self.artifacts_url
        return str(self.home_path / "artifacts")


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``KEEL_*`` variables (``os.environ`` by default), then ``overrides``."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.env_var)
        if raw is not None and raw != "":
            values[setting.name] = _parse(setting, raw)
    return Settings().replace(**values).replace(**overrides)


def export_settings(settings: Settings, environ: MutableMapping[str, str] | None = None) -> None:
    """Write ``settings`` into ``KEEL_*`` variables (``os.environ`` by default), so that worker
    processes started later (``keel server --workers``) load the same settings."""
    env = os.environ if environ is None else environ
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if value is None:
            env.pop(setting.env_var, None)
        elif isinstance(value, bool):
            env[setting.env_var] = "1" if value else "0"
        else:
            env[setting.env_var] = str(value)
