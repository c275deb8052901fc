"""Tampering with the stored audit log through SQL is caught by verify_audit_chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.errors import KeelError
from keel.registry.audit import ChainProblem, ChainReport, canonical_json, record_hash
from keel.testing._registry_contract_base import ctx, new_model, new_version


@pytest.fixture
def store(any_url: str) -> Iterator[SqlMetadataStore]:
    with open_sql_store(any_url) as opened:
        model = new_model(opened.registry)
        for _ in range(3):
            new_version(opened.registry, model.name)
        opened.registry.versions.set_alias(model.name, "champion", 1, ctx())
        opened.registry.versions.set_alias(model.name, "champion", 3, ctx())
        assert opened.registry.audit.get_chain_head().seq == 6
        assert opened.registry.audit.verify_audit_chain().ok
        yield opened


def _execute(url: str, sql: str, **params: object) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _report_after(store: SqlMetadataStore, any_url: str, sql: str, **params: object) -> ChainReport:
    _execute(any_url, sql, **params)
    return store.registry.audit.verify_audit_chain()


def test_a_changed_field_is_tampered(store: SqlMetadataStore, any_url: str) -> None:
    report = _report_after(store, any_url,
                           "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    assert (report.ok, report.problem, report.first_bad_seq) == (
        False, ChainProblem.TAMPERED, 3)


def test_a_changed_after_value_is_tampered(store: SqlMetadataStore, any_url: str) -> None:
    after = canonical_json({"alias": "champion", "version": 2})
    report = _report_after(store, any_url, "UPDATE audit_log SET after = :after WHERE seq = 6",
                           after=after)
    assert (report.problem, report.first_bad_seq) == (
        ChainProblem.TAMPERED, 6)


def test_a_changed_and_rehashed_record_breaks_the_link(
    store: SqlMetadataStore, any_url: str
) -> None:
    (record,) = store.registry.audit.list_audit_records(after_seq=1, limit=1)
    forged = record_hash(seq=record.seq, at=record.at, actor="mallory", action=record.action,
                         entity_type=record.entity_type, entity_id=record.entity_id,
                         before=record.before, after=record.after, reason=record.reason,
                         prev_hash=record.prev_hash)
    report = _report_after(
        store, any_url, "UPDATE audit_log SET actor = 'mallory', hash = :hash WHERE seq = 2",
        hash=forged)
    assert (report.problem, report.first_bad_seq) == (
        ChainProblem.BROKEN_LINK, 3)


def test_a_deleted_record_is_missing(store: SqlMetadataStore, any_url: str) -> None:
    report = _report_after(store, any_url, "DELETE FROM audit_log WHERE seq = 4")
    assert (report.problem, report.first_bad_seq) == (
        ChainProblem.MISSING, 4)


def test_a_deleted_last_record_is_missing(store: SqlMetadataStore, any_url: str) -> None:
    report = _report_after(store, any_url, "DELETE FROM audit_log WHERE seq = 6")
    assert (report.problem, report.first_bad_seq) == (
        ChainProblem.MISSING, 6)


def test_a_changed_head_is_tampered(store: SqlMetadataStore, any_url: str) -> None:
    report = _report_after(store, any_url, "UPDATE audit_head SET hash = :hash", hash="f" * 64)
    assert report.problem is ChainProblem.TAMPERED


def test_appending_refuses_to_continue_without_a_head(
    store: SqlMetadataStore, any_url: str
) -> None:
    _execute(any_url, "DELETE FROM audit_head")
    with pytest.raises(KeelError, match="audit chain head"):
        new_model(store.registry)
