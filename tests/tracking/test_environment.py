"""capture_environment: git state, diff, packages and system facts, each behind its flag."""

from __future__ import annotations

import ast
import getpass
import importlib.metadata
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keel.tracking import _environment
from keel.tracking._environment import (
    DIFF_PATH,
    REQUIREMENTS_PATH,
    capture_environment,
    strip_credentials,
)

GIT_TAGS = ("keel.git.commit", "keel.git.branch", "keel.git.dirty", "keel.git.remote")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Keel Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository on branch main with one commit of ``train.py``."""
    path = tmp_path / "project"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text("print('v1')\n")
    (path / "notes.txt").write_text("a\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path


def only_git(cwd: Path, *, git_diff: bool = True) -> _environment.EnvironmentCapture:
    return capture_environment(git=True, git_diff=git_diff, packages=False, system=False, cwd=cwd)


def test_a_clean_checkout_records_commit_branch_and_not_dirty(repo: Path) -> None:
    captured = only_git(repo)
    assert captured.tags == {
        "keel.git.commit": git(repo, "rev-parse", "HEAD"),
        "keel.git.branch": "main",
        "keel.git.dirty": "false",
    }
    assert captured.files == {}


def test_a_subdirectory_of_the_work_tree_is_inside_it(repo: Path) -> None:
    (repo / "src").mkdir()
    assert only_git(repo / "src").tags["keel.git.branch"] == "main"


def test_a_dirty_tree_records_dirty_and_the_staged_and_unstaged_diff(repo: Path) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    (repo / "notes.txt").write_text("a\nb\n")
    git(repo, "add", "notes.txt")
    captured = only_git(repo)
    assert captured.tags["keel.git.dirty"] == "true"
    diff = captured.files[DIFF_PATH].decode()
    assert "+print('v2')" in diff and "-print('v1')" in diff
    assert "+b" in diff
    assert DIFF_PATH not in only_git(repo, git_diff=False).files
    assert only_git(repo, git_diff=False).tags["keel.git.dirty"] == "true"


def test_untracked_files_do_not_make_the_tree_dirty(repo: Path) -> None:
    (repo / ".keel").mkdir()
    (repo / ".keel" / "keel.db").write_bytes(b"x")
    (repo / "scratch.py").write_text("x = 1\n")
    captured = only_git(repo)
    assert captured.tags["keel.git.dirty"] == "false"
    assert captured.files == {}


def test_a_large_diff_is_cut_with_a_marker(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_environment, "MAX_DIFF_BYTES", 300)
    (repo / "train.py").write_text("".join(f"print({i})\n" for i in range(1000)))
    diff = only_git(repo).files[DIFF_PATH]
    body, marker = diff.rsplit(b"# keel: diff truncated", 1)
    assert len(body) <= 300 and body.endswith(b"\n")
    assert marker == b" at 300 bytes\n"


def test_a_repository_without_commits_records_branch_and_staged_diff(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    (tmp_path / "a.py").write_text("x = 1\n")
    git(tmp_path, "add", "a.py")
    captured = only_git(tmp_path)
    assert "keel.git.commit" not in captured.tags
    assert captured.tags["keel.git.branch"] == "trunk"
    assert captured.tags["keel.git.dirty"] == "true"
    assert b"+x = 1" in captured.files[DIFF_PATH]


def test_a_detached_head_has_a_commit_and_no_branch(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    captured = only_git(repo)
    assert captured.tags["keel.git.commit"] == commit
    assert "keel.git.branch" not in captured.tags


def test_the_remote_is_recorded_without_credentials(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://user:token@example.com/team/x.git")
    assert only_git(repo).tags["keel.git.remote"] == "https://example.com/team/x.git"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@example.com/x.git", "https://example.com/x.git"),
        ("https://ghp_secret@github.com/o/r.git", "https://github.com/o/r.git"),
        ("http://u:p@host:8080/r.git", "http://host:8080/r.git"),
        ("ssh://git:secret@host/r.git", "ssh://git@host/r.git"),
        ("ssh://git@host:2222/r.git", "ssh://git@host:2222/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://example.com/x.git", "https://example.com/x.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        ("file:///srv/git/r.git", "file:///srv/git/r.git"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_outside_a_repository_there_are_no_git_tags_and_no_error(tmp_path: Path) -> None:
    probe = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        pytest.skip("the temporary directory is inside a git work tree")
    assert only_git(tmp_path) == _environment.EnvironmentCapture()


def test_a_missing_git_executable_is_tolerated(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_environment, "GIT_EXECUTABLE", "keel-test-no-such-git")
    captured = capture_environment(git=True, git_diff=True, packages=False, system=True, cwd=repo)
    assert not set(GIT_TAGS) & set(captured.tags)
    assert "keel.python.version" in captured.tags


def test_a_missing_directory_is_tolerated(tmp_path: Path) -> None:
    assert only_git(tmp_path / "gone").tags == {}


def test_every_flag_off_captures_nothing(repo: Path) -> None:
    (repo / "train.py").write_text("changed\n")
    captured = capture_environment(git=False, git_diff=True, packages=False, system=False, cwd=repo)
    assert captured.tags == {} and captured.files == {}


def test_each_flag_captures_only_its_part(repo: Path) -> None:
    (repo / "train.py").write_text("changed\n")
    packages = capture_environment(git=False, git_diff=False, packages=True, system=False, cwd=repo)
    assert packages.tags == {} and list(packages.files) == [REQUIREMENTS_PATH]
    system = capture_environment(
        git=False, git_diff=False, packages=False, system=True, cwd=repo, user="ada"
    )
    assert system.files == {}
    assert set(system.tags) == {
        "keel.source.entrypoint",
        "keel.source.command",
        "keel.python.version",
        "keel.python.implementation",
        "keel.platform",
        "keel.host",
        "keel.user",
    }
    everything = capture_environment(
        git=True, git_diff=True, packages=True, system=True, cwd=repo, user="ada"
    )
    assert set(everything.files) == {DIFF_PATH, REQUIREMENTS_PATH}
    assert set(everything.tags) == set(system.tags) | {
        "keel.git.commit",
        "keel.git.branch",
        "keel.git.dirty",
    }
    assert all(key.startswith("keel.") for key in everything.tags)


def test_requirements_list_installed_distributions_sorted_case_insensitively() -> None:
    text = (
        capture_environment(git=False, git_diff=False, packages=True, system=False)
        .files[REQUIREMENTS_PATH]
        .decode()
    )
    lines = text.splitlines()
    assert f"numpy=={importlib.metadata.version('numpy')}" in lines
    assert f"pyarrow=={importlib.metadata.version('pyarrow')}" in lines
    assert lines == sorted(lines, key=lambda line: (line.lower(), line))
    assert all(line.count("==") == 1 for line in lines)
    assert len({line.split("==")[0].lower() for line in lines}) == len(lines)


def test_system_tags_describe_the_interpreter_and_the_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tags = capture_environment(
        git=False, git_diff=False, packages=False, system=True, user="ada"
    ).tags
    assert tags["keel.python.version"] == platform.python_version()
    assert tags["keel.python.implementation"] == platform.python_implementation()
    assert tags["keel.platform"] == platform.platform()
    assert tags["keel.host"]
    assert tags["keel.user"] == "ada"
    assert tags["keel.source.command"] == shlex.join(sys.orig_argv)
    main_file = getattr(sys.modules["__main__"], "__file__", None)
    expected = str(Path(main_file).resolve()) if main_file else "<interactive>"
    assert tags["keel.source.entrypoint"] == expected


def test_the_login_name_is_the_default_user_and_its_absence_is_tolerated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "grace")
    capture = capture_environment(git=False, git_diff=False, packages=False, system=True)
    assert capture.tags["keel.user"] == "grace"

    def no_user() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    capture = capture_environment(git=False, git_diff=False, packages=False, system=True)
    assert "keel.user" not in capture.tags


def test_an_interactive_session_has_no_entrypoint_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    tags = capture_environment(git=False, git_diff=False, packages=False, system=True).tags
    assert tags["keel.source.entrypoint"] == "<interactive>"


def test_a_second_capture_is_cheap(repo: Path) -> None:
    capture_environment(git=True, git_diff=True, packages=True, system=True, cwd=repo)
    start = time.perf_counter()
    capture_environment(git=False, git_diff=False, packages=True, system=True, cwd=repo)
    assert time.perf_counter() - start < 0.05
    start = time.perf_counter()
    capture_environment(git=True, git_diff=True, packages=True, system=True, cwd=repo)
    assert time.perf_counter() - start < 1.0


def test_the_module_does_not_read_the_environment() -> None:
    tree = ast.parse(Path(_environment.__file__).read_text())
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not names & {"environ", "getenv", "environb", "os"}
