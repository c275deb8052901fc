"""Model URIs: parsing, with a clear error for each malformed form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.errors import InvalidArgument
from keel.models import RegistryModelURI, RunModelURI, parse_model_uri


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("runs:/0123abcd/model", RunModelURI("0123abcd", "model")),
        ("runs:/0123abcd/models/churn/", RunModelURI("0123abcd", "models/churn")),
        ("models:/churn/3", RegistryModelURI("churn", version=3)),
        ("models:/churn model/12", RegistryModelURI("churn model", version=12)),
        ("models:/churn@champion", RegistryModelURI("churn", alias="champion")),
        ("models:/churn@canary-2", RegistryModelURI("churn", alias="canary-2")),
    ],
)
def test_well_formed_uris_parse_and_print_back(uri: str, parsed: object) -> None:
    assert parse_model_uri(uri) == parsed
    assert parse_model_uri(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("model", "no scheme"),
        ("s3://bucket/model", "unknown scheme 's3'"),
        ("runs:/", "the run id is missing"),
        ("runs://model", "the run id is missing"),
        ("runs:/abc", "the artifact path of the model is missing"),
        ("runs:/abc/", "the artifact path of the model is missing"),
        ("runs:/a b/model", "'a b' is not a run id"),
        ("runs:/abc/../other/model", "'..'"),
        ("models:/churn", "a version"),
        ("models:/churn/", "the version after '/' is missing"),
        ("models:/churn/0", "version '0' is not a positive integer"),
        ("models:/churn/latest", "version 'latest' is not a positive integer"),
        ("models:/churn/-1", "not a positive integer"),
        ("models:/churn@", "the alias after '@' is missing"),
        ("models:/churn@bad alias", "is not an alias"),
        ("models:/@champion", "the model name is missing"),
        ("models://3", "the model name is missing"),
        ("models:/a/b/3", "contains '/' or '@'"),
    ],
)
def test_malformed_uris_say_what_is_wrong(uri: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid model URI") as caught:
        parse_model_uri(uri)
    assert reason in caught.value.message
    assert caught.value.details["uri"] == uri


_RUN_IDS = st.text(alphabet="0123456789abcdef", min_size=1, max_size=32)
_SEGMENTS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=10)
_NAMES = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789_- .", min_size=1, max_size=20
).filter(lambda n: n == n.strip())


@given(_RUN_IDS, st.lists(_SEGMENTS, min_size=1, max_size=4))
def test_any_run_uri_round_trips(run_id: str, segments: list[str]) -> None:
    uri = RunModelURI(run_id, "/".join(segments))
    assert parse_model_uri(str(uri)) == uri


@given(_NAMES, st.integers(1, 10**9))
def test_any_version_uri_round_trips(name: str, version: int) -> None:
    uri = RegistryModelURI(name, version=version)
    assert parse_model_uri(str(uri)) == uri


@given(_NAMES, st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-.]{0,20}", fullmatch=True))
def test_any_alias_uri_round_trips(name: str, alias: str) -> None:
    uri = RegistryModelURI(name, alias=alias)
    assert parse_model_uri(str(uri)) == uri


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_invalid_argument(text: str) -> None:
    try:
        parsed = parse_model_uri(text)
    except InvalidArgument:
        return
    assert parse_model_uri(str(parsed)) == parsed
