"""Path safety: safe_key, safe_prefix and safe_relative_path."""

from __future__ import annotations

import ntpath
import posixpath
from pathlib import PurePosixPath, PureWindowsPath

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keel.artifacts.paths import (
    MAX_KEY_BYTES,
    safe_key,
    safe_prefix,
    safe_relative_path,
)
from keel.errors import InvalidArgument, InvalidArtifactPath
from keel.testing.artifact_contract import EMPTY_KEYS, UNSAFE_KEYS

# Traversal payloads from MLflow's path-traversal CVEs (CVE-2023-1177, -2780, -3765, -6014,
# -6909, -6975, CVE-2024-1483, -1560, -1594, -2928, -3573) and the usual suspects around them.
CVE_PAYLOADS = [
    "../",
    "../../../../etc/passwd",
    "..%2f..%2fetc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc/passwd",
    "%2E%2E/%2E%2E/etc/passwd",
    "%252e%252e%252fetc%252fpasswd",
    "%25252e%25252e/etc",
    "..\\..\\windows\\win.ini",
    "..%5c..%5cwindows",
    "/etc/passwd",
    "\\etc\\passwd",
    "C:\\Windows\\System32",
    "C:/Windows/System32",
    "c:windows",
    "file:///etc/passwd",
    "file:/etc/passwd",
    "http://169.254.169.254/latest/meta-data",
    "s3://other-bucket/key",
    "//host/share",
    "\\\\host\\share",
    "a;b/../..",
    "a;/../../etc",
    "a?x=../",
    "a#/../../",
    "model/..",
    "model/../../..",
    "./../x",
    "a/./../../x",
    "%00",
    "a\x00.txt",
    "..%00/x",
    "..%c0%af",
    "%c0%ae%c0%ae/",
    "\uff0e\uff0e/etc",
    "\u2025/etc",
    "..\u2215etc",
    ".. /x",
    "... /x",
]


@pytest.mark.parametrize("payload", CVE_PAYLOADS)
def test_historical_traversal_payloads_are_rejected(payload: str) -> None:
    with pytest.raises(InvalidArtifactPath):
        safe_key(payload)
    with pytest.raises(InvalidArtifactPath):
        safe_prefix(payload)


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_contract_unsafe_keys_are_rejected(key: str) -> None:
    with pytest.raises(InvalidArtifactPath):
        safe_key(key)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("model.pkl", "model.pkl"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("a/./b/", "a/b"),
        ("./a", "a"),
        ("a//b///c", "a/b/c"),
        ("a/b/.", "a/b"),
        ("données/模型/🚀.txt", "données/模型/🚀.txt"),
        ("with space/and-dash_and.dots..txt", "with space/and-dash_and.dots..txt"),
        (".hidden/.config", ".hidden/.config"),
        ("..a/b..", "..a/b.."),
        ("100%/caf%C3%A9", "100%/caf%C3%A9"),
        ("~/x", "~/x"),
    ],
)
def test_safe_keys_are_normalized(key: str, expected: str) -> None:
    assert safe_key(key) == expected


@pytest.mark.parametrize("key", EMPTY_KEYS)
def test_empty_keys_are_rejected_for_files_and_mean_the_root_for_listings(key: str) -> None:
    with pytest.raises(InvalidArtifactPath, match="empty"):
        safe_key(key)
    assert safe_prefix(key) == ""


def test_the_error_names_the_key_and_the_reason() -> None:
    with pytest.raises(InvalidArtifactPath) as caught:
        safe_key("models/../../secret")
    error = caught.value
    assert isinstance(error, InvalidArgument)
    assert error.http_status == 400
    assert error.code == "INVALID_ARTIFACT_PATH"
    assert error.details == {"path": "models/../../secret", "reason": error.details["reason"]}
    assert "'..'" in error.details["reason"]
    assert "models/../../secret" in str(error)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("a\x00b", "control character"),
        ("/x", "absolute"),
        ("C:\\x", "Windows drive"),
        ("//h/s", "UNC"),
        ("file:x", "URL"),
        ("a\\b", "backslash"),
        ("%2e%2e/x", "percent-encoded"),
        ("%252e%252e/x", "percent-encoded"),
        ("\uff0e\uff0e/x", "NFKC"),
        ("a;b", "';'"),
        (".keel-tmp/x", "reserved"),
        ("x" * 256, "longer than 255"),
        ("a/" * 600, f"longer than {MAX_KEY_BYTES}"),
        ("%" + "25" * 5 + "41", "nested"),
        ("a\u2215b", "looks like a path separator"),
    ],
)
def test_each_rejection_says_why(key: str, reason: str) -> None:
    with pytest.raises(InvalidArtifactPath, match=reason):
        safe_key(key)


def test_long_keys_are_shortened_in_the_message_but_kept_in_details() -> None:
    key = "a/" + "x" * 2000
    with pytest.raises(InvalidArtifactPath) as caught:
        safe_key(key)
    assert len(str(caught.value)) < 400
    assert caught.value.details["path"] == key


def test_non_strings_are_rejected() -> None:
    with pytest.raises(InvalidArtifactPath, match="string"):
        safe_key(b"a/b")  # type: ignore[arg-type]


def test_safe_relative_path_turns_a_local_relative_path_into_a_key() -> None:
    assert safe_relative_path(PurePosixPath("a/b/c.txt")) == "a/b/c.txt"
    assert safe_relative_path(PureWindowsPath("a\\b\\c.txt")) == "a/b/c.txt"
    assert safe_relative_path("a/./b") == "a/b"


@pytest.mark.parametrize(
    "path",
    [PurePosixPath("/etc/passwd"), PureWindowsPath("C:\\x"), PureWindowsPath("\\x"), "../x"],
)
def test_safe_relative_path_rejects_absolute_and_parent_paths(path: PurePosixPath | str) -> None:
    with pytest.raises(InvalidArtifactPath):
        safe_relative_path(path)


# -- properties ----------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        ".", "..", "/", "\\", "%", "%2e", "%2E", "%2f", "%25", "%5c", "%c0%ae", ":", "C:", ";",
        "?", "#", "~", " ", "a", "b", "é", "\x00", "\n", "\uff0e", "\u2025", "\uff0f", ".keel-",
        "file:", "//", "\u202e", "\ufe52",
    ]
)  # fmt: skip
_KEYS = st.one_of(st.text(max_size=80), st.lists(_PIECES, max_size=14).map("".join))


def _stays_inside(key: str) -> bool:
    posix_root = "/srv/artifacts"
    joined = posixpath.normpath(posixpath.join(posix_root, key))
    windows_root = "C:\\srv\\artifacts"
    windows = ntpath.normpath(ntpath.join(windows_root, key))
    return joined.startswith(posix_root + "/") and windows.startswith(windows_root + "\\")


@settings(max_examples=1500, deadline=None)
@given(_KEYS)
@example("a/../b")
@example("%2e%2e/x")
@example("./.")
def test_any_string_is_rejected_or_becomes_a_key_that_stays_inside_any_root(key: str) -> None:
    try:
        safe = safe_key(key)
    except InvalidArtifactPath:
        return
    assert safe
    assert _stays_inside(safe)
    assert safe_key(safe) == safe
    assert ".." not in safe.split("/")
    assert "" not in safe.split("/")
    assert "." not in safe.split("/")


@settings(max_examples=500, deadline=None)
@given(_KEYS)
def test_safe_prefix_agrees_with_safe_key_except_for_the_root(key: str) -> None:
    try:
        prefix = safe_prefix(key)
    except InvalidArtifactPath:
        with pytest.raises(InvalidArtifactPath):
            safe_key(key)
        return
    if prefix:
        assert safe_key(key) == prefix
    assert safe_prefix(prefix) == prefix


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="abcxyz._-", min_size=1, max_size=8), min_size=1, max_size=6))
def test_plain_names_are_accepted_unchanged(parts: list[str]) -> None:
    key = "/".join(parts)
    if any(part.strip(".") == "" or part.startswith(".keel-") for part in parts):
        return
    assert safe_key(key) == key
