"""Fuzz the whole API from its own OpenAPI document with schemathesis: whatever the
generated requests hold, the server never answers 5xx, never hangs, and answers what the spec
says (documented statuses, declared response schemas).

Operations are driven through schemathesis's Hypothesis strategies directly (one test per
operation, labelled by method and path) against a live server on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keel.api import create_app
from keel.api._serve import serve_in_thread
from keel.app import Keel
from keel.config import load_settings


def _spec() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home, Keel(
        load_settings({}, home=home, capture_packages=False)
    ) as keel:
        return create_app(keel).openapi()


SCHEMA = schemathesis.openapi.from_dict(_spec())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("fuzz")
    with Keel(load_settings({}, home=str(home), capture_packages=False)) as keel:
        # Something to find, so that generated requests sometimes reach real resources.
        experiment = keel.experiments.create_experiment("fuzz")
        keel.runs.create_run(experiment.experiment_id, name="seed")
        with serve_in_thread(create_app(keel)) as url:
            yield url


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_api_holds_up_to_fuzzing(live_url: str, label: str) -> None:
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=live_url, timeout=20, checks=CHECKS)

    fuzz()


def test_every_route_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 30
    assert "POST /api/v1/metrics" in OPERATIONS



