"""Registry webhooks: HMAC-signed POSTs of registry events to allowlisted targets.

Every registry change writes a :class:`~keel.registry.models.RegistryEvent` in its own
transaction (the outbox). A :class:`WebhookDispatcher` runs separately, after the fact: it reads
events after a cursor with ``AuditStore.list_events`` and POSTs each to every target that wants
it, so a webhook can never fail or slow down a registry operation::

    dispatcher = WebhookDispatcher(
        keel.audit, [WebhookTarget("https://hooks.example.com/keel", secret)],
        allowlist=["https://hooks.example.com"],
    )
    report = dispatcher.deliver_pending(cursor)
    cursor = report.cursor      # persist it; failed deliveries are in report.failed

The request body is JSON ``{"seq", "type", "at", "payload"}`` with the headers
``X-Keel-Event`` (the type), ``X-Keel-Delivery`` (unique per event and target, the same on every
retry), ``X-Keel-Timestamp`` (unix seconds) and ``X-Keel-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body keyed by the target's secret; receivers check it with
:func:`verify_signature`.

Safety (see :mod:`keel.registry._webhook_urls` for the allowlist and address rules): targets
outside the allowlist are refused when the dispatcher is built; each delivery resolves the host
once, refuses metadata, link-local and (unless named literally) private addresses, and connects
to the checked address (the URL carries the IP; ``Host`` and TLS SNI/certificate checks use the
name), so DNS rebinding cannot redirect it. Proxies from the environment are ignored. Redirects
are never followed (a 3xx is a failure), response bodies are never read, and reasons in reports
and logs name only a status code or an exception class.

Network errors, timeouts, 5xx and 429 are retried up to ``max_attempts`` with exponential
backoff and jitter (``backoff_base * 2**(n-1) * (1 + U[0, 0.5))`` seconds before retry ``n``);
other 4xx are not retried. A delivery that still fails is reported and logged, and the cursor
moves past it: replay ``report.failed`` if it matters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keel.errors import InvalidArgument, MissingDependency
from keel.registry._webhook_report import DeliveryReport, DeliveryResult
from keel.registry._webhook_urls import (
    ParsedURL,
    address_refusal,
    is_ip,
    parse_webhook_url,
    resolve_host,
)
from keel.registry.models import RegistryEvent
from keel.registry.store import AuditStore

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DeliveryReport",
    "DeliveryResult",
    "WebhookDispatcher",
    "WebhookTarget",
    "address_refusal",
    "load_targets",
    "read_cursor",
    "sign",
    "verify_signature",
    "write_cursor",
]

from keel.registry._webhook_config import load_targets, read_cursor, write_cursor

logger = logging.getLogger("keel.registry.webhooks")

Resolver = Callable[[str, int], Sequence[str]]
_RETRY_STATUS = frozenset({429})


def sign(secret: str, body: bytes) -> str:
    """The ``X-Keel-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (an ``X-Keel-Signature`` value) signs the raw ``body`` with ``secret``;
    compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


@dataclass(frozen=True)
class WebhookTarget:
    """Where to POST events. ``event_types`` None means every event."""

    url: str
    secret: str = field(repr=False)
    event_types: frozenset[str] | None = None

    def __init__(
        self, url: str, secret: str, event_types: Iterable[str] | None = None
    ) -> None:
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "secret", secret)
        object.__setattr__(
            self, "event_types", None if event_types is None else frozenset(event_types)
        )

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


@dataclass(frozen=True)
class _Outcome:
    status: int | None
    reason: str | None
    retry: bool

    @property
    def ok(self) -> bool:
        return self.reason is None


class WebhookDispatcher:
    """POSTs registry events to webhook targets; see the module docstring."""

    def __init__(
        self,
        audit_store: AuditStore,
        targets: Sequence[WebhookTarget],
        *,
        allowlist: Sequence[str],
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        timeout: float = 5.0,
        batch_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise InvalidArgument(f"max_attempts must be at least 1, got {max_attempts}")
        if backoff_base < 0 or timeout <= 0 or batch_size < 1:
            raise InvalidArgument("backoff_base must be >= 0, timeout > 0 and batch_size >= 1")
        prefixes = [parse_webhook_url(a, what="webhook allowlist entry") for a in allowlist]
        self._targets: list[tuple[WebhookTarget, ParsedURL]] = []
        for target in targets:
            parsed = parse_webhook_url(target.url, what="webhook target")
            if not any(parsed.within(p) for p in prefixes):
                raise InvalidArgument(
                    f"webhook target {parsed.display!r} is not on the webhook allowlist",
                    details={"target": parsed.display},
                )
            if not target.secret:
                raise InvalidArgument(f"webhook target {parsed.display!r} has an empty secret")
            refusal = address_refusal(parsed.host, parsed.host) if is_ip(parsed.host) else None
            if refusal:
                raise InvalidArgument(f"webhook target {parsed.display!r} refused: {refusal}")
            self._targets.append((target, parsed))
        _require_httpx()
        self._audit = audit_store
        self._transport = transport
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._timeout = timeout
        self._batch_size = batch_size
        self._sleep = sleep
        self._clock = clock
        self._resolve: Resolver = resolver or resolve_host
        self._rng = rng or random.Random()

    @property
    def targets(self) -> tuple[WebhookTarget, ...]:
        return tuple(t for t, _ in self._targets)

    def deliver_pending(self, cursor: int) -> DeliveryReport:
        """Deliver the events after ``cursor`` (at most ``batch_size`` of them) to every target
        that wants them. Never raises for a delivery problem; see the returned report."""
        events = self._audit.list_events(after_seq=cursor, limit=self._batch_size)
        if not events or not self._targets:
            return DeliveryReport(cursor=events[-1].seq if events else cursor, results=())
        import httpx

        results: list[DeliveryResult] = []
        with httpx.Client(
            transport=self._transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self._timeout),
            trust_env=False,
        ) as client:
            for event in events:
                for target, parsed in self._targets:
                    if target.wants(event.type):
                        results.append(self._deliver(client, event, target, parsed))
        return DeliveryReport(cursor=events[-1].seq, results=tuple(results))

    # -- one delivery ------------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1 for the first retry)."""
        base: float = self._backoff_base * 2.0 ** (attempt - 1)
        return base * (1.0 + 0.5 * self._rng.random())

    def _deliver(
        self, client: httpx.Client, event: RegistryEvent, target: WebhookTarget,
        parsed: ParsedURL,
    ) -> DeliveryResult:
        started = self._clock()
        delivery_id = uuid.uuid4().hex
        address: str | None
        refusal: str | None
        try:
            body = json.dumps(
                {"seq": event.seq, "type": event.type, "at": event.at, "payload": event.payload},
                sort_keys=True, separators=(",", ":"), allow_nan=False,
            ).encode()
        except (TypeError, ValueError) as error:
            body, address, refusal = b"", None, f"event not JSON ({type(error).__name__})"
        else:
            address, refusal = self._pick_address(parsed)
        attempts = 0
        outcome = _Outcome(None, refusal, retry=False)
        if address is not None:
            while True:
                attempts += 1
                outcome = self._post(client, parsed, address, event, target, delivery_id, body)
                if outcome.ok or not outcome.retry or attempts >= self._max_attempts:
                    break
                self._sleep(self.backoff(attempts))
        result = DeliveryResult(
            seq=event.seq, event_type=event.type, target=parsed.display,
            delivery_id=delivery_id, delivered=outcome.ok, attempts=attempts,
            status=outcome.status, reason=outcome.reason, elapsed=self._clock() - started,
        )
        if not result.delivered:
            logger.warning(
                "webhook delivery %s of event %s (%s) to %s failed after %d attempt(s): %s",
                delivery_id, event.seq, event.type, parsed.display, attempts, outcome.reason,
            )
        return result

    def _pick_address(self, parsed: ParsedURL) -> tuple[str | None, str | None]:
        """Resolve once; every address must pass (a mix of public and private is refused)."""
        try:
            addresses = list(self._resolve(parsed.host, parsed.port))
        except OSError as error:
            return None, f"cannot resolve host ({type(error).__name__})"
        if not addresses:
            return None, "cannot resolve host (no addresses)"
        for address in addresses:
            refusal = address_refusal(address, parsed.host)
            if refusal:
                return None, f"refused address: {refusal}"
        return addresses[0], None

    def _post(
        self, client: httpx.Client, parsed: ParsedURL, address: str, event: RegistryEvent,
        target: WebhookTarget, delivery_id: str, body: bytes,
    ) -> _Outcome:
        import httpx

        headers = {
            "Host": parsed.host_header,
            "Content-Type": "application/json",
            "User-Agent": "keel-webhooks",
            "X-Keel-Event": event.type,
            "X-Keel-Delivery": delivery_id,
            "X-Keel-Timestamp": str(int(time.time())),
            "X-Keel-Signature": sign(target.secret, body),
        }
        extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
        try:
            # Streamed and closed unread: only the status line is ever looked at.
            with client.stream(
                "POST", parsed.pinned(address), content=body, headers=headers,
                extensions=extensions,
            ) as response:
                status = response.status_code
        except httpx.TimeoutException as error:
            return _Outcome(None, f"timeout ({type(error).__name__})", retry=True)
        except httpx.TransportError as error:
            return _Outcome(None, f"network error ({type(error).__name__})", retry=True)
        except Exception as error:  # never let a delivery raise to the caller
            return _Outcome(None, f"request error ({type(error).__name__})", retry=False)
        if 200 <= status < 300:
            return _Outcome(status, None, retry=False)
        if 300 <= status < 400:
            return _Outcome(status, f"HTTP {status}: redirect not followed", retry=False)
        retry = status >= 500 or status in _RETRY_STATUS
        return _Outcome(status, f"HTTP {status}", retry=retry)


def _require_httpx() -> None:
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise MissingDependency("httpx", extra="webhooks") from None
