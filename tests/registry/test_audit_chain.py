"""The hash-chain rule and verify_chain, on records built in memory."""

from __future__ import annotations

import dataclasses
from typing import Any

from keel.registry.audit import (
    GENESIS_HASH,
    ChainProblem,
    canonical_json,
    hash_of,
    record_hash,
    verify_chain,
)
from keel.registry.models import AuditRecord, ChainHead


def _chain(count: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        fields: dict[str, Any] = {
            "seq": seq, "at": 1000 + seq, "actor": "alice", "action": "alias.set",
            "entity_type": "alias", "entity_id": f"m@champion{seq}",
            "before": None if seq == 1 else {"alias": "champion", "version": seq - 1},
            "after": {"alias": "champion", "version": seq, "ü": [1.5, "NaN"]},
            "reason": None if seq % 2 else "because", "prev_hash": prev,
        }
        digest = record_hash(**fields)
        records.append(AuditRecord(**fields, hash=digest))
        prev = digest
    return records


def _rehash(record: AuditRecord, **changes: Any) -> AuditRecord:
    changed = dataclasses.replace(record, **changes)
    return dataclasses.replace(changed, hash=hash_of(changed))


def test_the_hash_rule_is_pinned() -> None:
    # Changing the rule invalidates every stored chain: this value must never change.
    digest = record_hash(
        seq=1, at=1700000000000, actor="alice", action="registered_model.created",
        entity_type="registered_model", entity_id="m1", before=None,
        after={"name": "churn", "tags": {"b": "2", "a": "1"}, "auc": 0.9},
        reason="first", prev_hash=GENESIS_HASH,
    )
    assert digest == "79883fb656c3d6555879e83b220bc3cc45a2ad80421465c244e383cd71096c8d"


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": [1, 2.5], "a": "ü"}) == '{"a":"ü","b":[1,2.5]}'


def test_an_intact_chain_verifies() -> None:
    records = _chain(5)
    report = verify_chain(records, head=ChainHead(5, records[-1].hash))
    assert report.ok and report.checked == 5
    assert (report.last_seq, report.last_hash) == (5, records[-1].hash)
    assert verify_chain([]).ok and verify_chain([]).last_hash == GENESIS_HASH


def test_changed_content_is_tampered() -> None:
    records = _chain(5)
    records[2] = dataclasses.replace(records[2], actor="mallory")
    report = verify_chain(records)
    assert (report.ok, report.problem, report.first_bad_seq) == (
        False, ChainProblem.TAMPERED, 3)
    assert report.last_seq == 2


def test_changed_and_rehashed_content_breaks_the_next_link() -> None:
    records = _chain(5)
    records[2] = _rehash(records[2], after={"alias": "champion", "version": 99})
    report = verify_chain(records)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.BROKEN_LINK, 4)


def test_a_removed_record_is_missing() -> None:
    records = _chain(5)
    del records[1]
    report = verify_chain(records)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.MISSING, 2)
    assert "record 2 is missing" in report.message


def test_a_removed_and_renumbered_record_breaks_the_link() -> None:
    records = _chain(4)
    rest = [_rehash(r, seq=r.seq - 1) for r in records[2:]]
    report = verify_chain([records[0], *rest])
    assert (report.problem, report.first_bad_seq) == (ChainProblem.BROKEN_LINK, 2)


def test_records_removed_from_the_end_are_caught_by_the_head() -> None:
    records = _chain(5)
    head = ChainHead(5, records[-1].hash)
    report = verify_chain(records[:3], head=head)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.MISSING, 4)
    assert verify_chain(records[:3]).ok  # without the head, a shorter chain looks fine


def test_a_head_that_disagrees_with_the_log_is_tampered() -> None:
    records = _chain(3)
    report = verify_chain(records, head=ChainHead(3, "f" * 64))
    assert report.problem is ChainProblem.TAMPERED and not report.ok


def test_out_of_order_records_are_reported() -> None:
    records = _chain(3)
    report = verify_chain([records[0], records[1], records[0]])
    assert report.problem is ChainProblem.OUT_OF_ORDER


def test_a_tail_verifies_from_its_start() -> None:
    records = _chain(6)
    start = ChainHead(3, records[2].hash)
    assert verify_chain(records[3:], start=start).ok
    assert not verify_chain(records[3:]).ok
