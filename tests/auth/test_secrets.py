"""Token format and parsing, token and password hashing."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.auth import ParsedToken, hash_token, parse_token
from keel.auth._secrets import (
    hash_password,
    looks_like_token,
    needs_rehash,
    new_token,
    new_token_id,
    token_matches,
    verify_password,
)
from keel.errors import Unauthenticated

TOKEN = re.compile(r"keel_[0-9a-f]{16}_[A-Za-z0-9_\-]{43}")
token_ids = st.from_regex(r"[0-9a-f]{16}", fullmatch=True)
urlsafe = st.text(alphabet="ABCXYZabcxyz0189_-", min_size=43, max_size=60)


def test_a_new_token_has_the_documented_shape_and_parses_back() -> None:
    token_id = new_token_id()
    secret = new_token(token_id)
    assert TOKEN.fullmatch(secret), secret
    assert parse_token(secret) == ParsedToken(token_id, secret)
    assert secret not in repr(parse_token(secret))
    assert len({new_token(token_id) for _ in range(100)}) == 100


@given(token_ids, urlsafe)
def test_well_formed_tokens_parse(token_id: str, tail: str) -> None:
    secret = f"keel_{token_id}_{tail}"
    assert parse_token(secret) == ParsedToken(token_id, secret)
    assert looks_like_token(secret)


@given(st.one_of(st.text(max_size=700), st.binary(max_size=100), st.none(), st.integers(),
                 st.floats(), st.lists(st.text(max_size=5), max_size=3)))
def test_parse_token_never_crashes(value: object) -> None:
    try:
        parsed = parse_token(value)
    except Unauthenticated as error:
        assert "malformed token" in error.message
        return
    assert isinstance(value, str) and parsed.secret == value and TOKEN.match(value)


@given(token_ids, urlsafe, st.sampled_from([
    lambda s: s.replace("keel_", "KEEL_", 1),
    lambda s: s.replace("keel_", "keel-", 1),
    lambda s: s[: len("keel_") + 15] + s[len("keel_") + 16 :],  # 15 hex digits in the id
    lambda s: s.upper(),
    lambda s: s[:48],  # secret part too short
    lambda s: s + " ",
    lambda s: " " + s,
    lambda s: s + "\n",
    lambda s: s + "=",
    lambda s: s + "é",
    lambda s: s + "x" * 600,
    lambda s: s.replace("_", "", 1),
]))
def test_malformed_tokens_are_refused_with_unauthenticated(
    token_id: str, tail: str, mutate: object
) -> None:
    bad = mutate(f"keel_{token_id}_{tail}")  # type: ignore[operator]
    with pytest.raises(Unauthenticated, match="malformed token"):
        parse_token(bad)
    assert not looks_like_token(bad)


def test_token_hashes_are_sha256_and_compared_by_value() -> None:
    secret = new_token(new_token_id())
    digest = hash_token(secret)
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and secret not in digest
    assert token_matches(secret, digest)
    assert not token_matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), digest)
    assert not token_matches(secret, "é" * 64)


def test_passwords_are_salted_scrypt_with_their_parameters() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second  # a random salt per hash
    assert first.startswith("$scrypt$ln=15,r=8,p=1$") and "correct" not in first
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not needs_rehash(first)
    weak = hash_password("correct horse battery", log2_n=10)
    assert verify_password("correct horse battery", weak) and needs_rehash(weak)


@pytest.mark.parametrize("stored", [
    None, "", "plain", "$scrypt$ln=15,r=8,p=1$$", "$scrypt$ln=99,r=8,p=1$c2FsdA$aGFzaA",
    "$scrypt$ln=15,r=8,p=1$!!!$aGFzaA", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
])
def test_a_missing_or_damaged_hash_never_matches_and_never_crashes(stored: str | None) -> None:
    assert not verify_password("correct horse battery", stored)
    if stored is not None:
        assert needs_rehash(stored)
