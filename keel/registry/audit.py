"""The audit log's hash chain: how a record's hash is computed, and how a chain is verified.

The rule (stable: changing it invalidates every stored chain)::

    hash = sha256(canonical_json({
        "seq": int, "at": int, "actor": str, "action": str, "entity_type": str,
        "entity_id": str, "before": JSON, "after": JSON, "reason": str | null,
        "prev_hash": str,
    }).encode("utf-8")).hexdigest()

    canonical_json(v) = json.dumps(v, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False, allow_nan=False)

Records are numbered 1, 2, 3, ... without gaps. Record 1's ``prev_hash`` is :data:`GENESIS_HASH`
(64 zeros); record n's is record n-1's ``hash``. ``before`` and ``after`` are plain JSON (see
keel.registry._json: non-finite floats are the strings "NaN", "Infinity", "-Infinity").

What verification catches: a changed field of any record (its hash no longer matches:
``tampered``); a record whose hash was recomputed after a change, or a removed record whose
successors were renumbered (the next ``prev_hash`` no longer matches: ``broken_link``); a removed
record (a gap in ``seq``, or a chain shorter than the stored head: ``missing``). Rewriting a whole
tail consistently, head included, needs the head to be anchored somewhere else (print it, sign
it, ship it off-box): compare :class:`ChainReport.last_hash` with the anchored value.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from keel.registry.models import AuditRecord, ChainHead

__all__ = [
    "GENESIS_HASH",
    "ChainProblem",
    "ChainReport",
    "ChainVerifier",
    "canonical_json",
    "record_hash",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first record."""


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value``: sorted keys, no whitespace, UTF-8, NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def record_hash(
    *,
    seq: int,
    at: int,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    reason: str | None,
    prev_hash: str,
) -> str:
    """The sha256 (hex) of a record's fields, by the rule in the module docstring."""
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def hash_of(record: AuditRecord) -> str:
    """What ``record.hash`` must be."""
    return record_hash(
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        action=record.action,
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        before=record.before,
        after=record.after,
        reason=record.reason,
        prev_hash=record.prev_hash,
    )


class ChainProblem(enum.StrEnum):
    TAMPERED = "tampered"  # a record's content does not match its hash
    BROKEN_LINK = "broken_link"  # a record's prev_hash is not its predecessor's hash
    MISSING = "missing"  # a seq is absent (a gap, or records after the last one seen)
    OUT_OF_ORDER = "out_of_order"  # seq not increasing


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    """How many records were examined."""
    last_seq: int
    last_hash: str
    """Seq and hash of the last good record (the start when none was good)."""
    first_bad_seq: int | None = None
    problem: ChainProblem | None = None
    message: str = "the audit chain verifies"


class ChainVerifier:
    """Verifies a chain fed one record at a time, in seq order (so a store can stream it)."""

    def __init__(self, start: ChainHead | None = None) -> None:
        start = start or ChainHead(0, GENESIS_HASH)
        self._last = start
        self._checked = 0
        self._failure: ChainReport | None = None

    @property
    def failed(self) -> bool:
        return self._failure is not None

    def _fail(self, seq: int, problem: ChainProblem, message: str) -> None:
        self._failure = ChainReport(
            False, self._checked, self._last.seq, self._last.hash, seq, problem, message
        )

    def feed(self, record: AuditRecord) -> bool:
        """Check the next record; False (and no further checking) once a problem is found."""
        if self._failure is not None:
            return False
        self._checked += 1
        expected = self._last.seq + 1
        if record.seq < expected:
            self._fail(record.seq, ChainProblem.OUT_OF_ORDER,
                       f"record {record.seq} comes after record {self._last.seq}")
        elif record.seq > expected:
            missing = (f"records {expected}..{record.seq - 1} are" if record.seq - 1 > expected
                       else f"record {expected} is")
            self._fail(expected, ChainProblem.MISSING, f"{missing} missing")
        elif hash_of(record) != record.hash:
            self._fail(record.seq, ChainProblem.TAMPERED,
                       f"record {record.seq} does not match its hash: its content was changed")
        elif record.prev_hash != self._last.hash:
            self._fail(
                record.seq,
                ChainProblem.BROKEN_LINK,
                f"record {record.seq}'s prev_hash is not the hash of record {self._last.seq}: "
                f"a record before it was changed and re-hashed, or removed",
            )
        else:
            self._last = ChainHead(record.seq, record.hash)
            return True
        return False

    def finish(self, head: ChainHead | None = None) -> ChainReport:
        """The report; ``head`` (the store's chain head) must then be the last record seen."""
        if self._failure is not None:
            return self._failure
        if head is not None and head != self._last:
            if head.seq > self._last.seq:
                return ChainReport(
                    False, self._checked, self._last.seq, self._last.hash, self._last.seq + 1,
                    ChainProblem.MISSING,
                    f"the chain head is record {head.seq} but the log ends at record "
                    f"{self._last.seq}: records {self._last.seq + 1}..{head.seq} are missing",
                )
            return ChainReport(
                False, self._checked, self._last.seq, self._last.hash, head.seq,
                ChainProblem.TAMPERED,
                f"the chain head (record {head.seq}, {head.hash[:12]}...) does not match the "
                f"log (record {self._last.seq}, {self._last.hash[:12]}...)",
            )
        return ChainReport(True, self._checked, self._last.seq, self._last.hash)


def verify_chain(
    records: Iterable[AuditRecord],
    *,
    head: ChainHead | None = None,
    start: ChainHead | None = None,
) -> ChainReport:
    """Verify ``records`` (in seq order). ``start`` is the record before the first one given
    (default: genesis, so ``records`` must begin at seq 1); ``head``, when given, is the stored
    chain head, which catches records removed from the end."""
    verifier = ChainVerifier(start)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.finish(head)
