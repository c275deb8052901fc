"""What a webhook delivery run did: one result per event and target, and the new cursor."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeliveryReport", "DeliveryResult"]


@dataclass(frozen=True)
class DeliveryResult:
    """One event to one target. ``reason`` names a status code or an exception class, never
    anything the target sent back."""

    seq: int
    event_type: str
    target: str
    """The target's origin and path (no query string)."""
    delivery_id: str
    delivered: bool
    attempts: int
    status: int | None
    reason: str | None
    elapsed: float
    """Seconds spent on this delivery, retries and backoff included."""


@dataclass(frozen=True)
class DeliveryReport:
    """What ``deliver_pending`` did; ``cursor`` is the seq of the last event attempted (the
    cursor passed in when there was nothing to do)."""

    cursor: int
    results: tuple[DeliveryResult, ...]

    @property
    def delivered(self) -> tuple[DeliveryResult, ...]:
        return tuple(r for r in self.results if r.delivered)

    @property
    def failed(self) -> tuple[DeliveryResult, ...]:
        return tuple(r for r in self.results if not r.delivered)
