"""Reproducibility capture: git state, entry point, interpreter, platform and installed packages.

:func:`capture_environment` returns tags (every key prefixed ``keel.``) and artifact files for a
new run. Each part runs only when its flag is set:

- ``git``: ``keel.git.commit``, ``keel.git.branch`` (absent on a detached HEAD),
  ``keel.git.dirty`` (``"true"``/``"false"``) and ``keel.git.remote`` (origin's URL without
  credentials), when the directory is inside a git work tree. The directory is ``cwd``, else
  the entry point's directory, else the working directory. git runs as a subprocess (no shell,
  short timeouts, no optional locks); when git is missing, slow or the directory is no work
  tree, the git tags are simply absent. Only tracked files count: untracked files neither make
  the tree dirty nor appear in the diff (keel's own ``.keel`` store would otherwise make every
  run dirty).
- ``git_diff`` (with ``git``): ``_keel/git.diff``, the uncommitted diff against HEAD, staged and
  unstaged, when the tree is dirty; cut at :data:`MAX_DIFF_BYTES` with a marker line.
- ``packages``: ``_keel/requirements.txt``, every installed distribution as ``name==version``
  sorted case-insensitively, computed once per process.
- ``system``: ``keel.source.entrypoint`` (the ``__main__`` file, or ``<interactive>``),
  ``keel.source.command`` (the command line, shell-quoted), ``keel.python.version``,
  ``keel.python.implementation``, ``keel.platform``, ``keel.host`` and ``keel.user`` (``user``,
  else the login name when it can be found).

The first call costs the package scan (50-200 ms); later ones cost the git subprocesses (two, a
third for the diff) and a few microseconds more. Nothing here reads the process environment.
"""

from __future__ import annotations

import functools
import getpass
import importlib.metadata
import platform
import re
import shlex
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DIFF_PATH",
    "REQUIREMENTS_PATH",
    "EnvironmentCapture",
    "capture_environment",
    "installed_requirements",
    "strip_credentials",
]

DIFF_PATH = "_keel/git.diff"
REQUIREMENTS_PATH = "_keel/requirements.txt"
GIT_EXECUTABLE = "git"
GIT_TIMEOUT = 3.0
DIFF_TIMEOUT = 10.0
MAX_DIFF_BYTES = 2 * 1024 * 1024
MAX_TAG_CHARS = 8_000


@dataclass(frozen=True)
class EnvironmentCapture:
    """What :func:`capture_environment` found: run tags, and artifact path → file content."""

    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def capture_environment(
    *,
    git: bool,
    git_diff: bool,
    packages: bool,
    system: bool,
    cwd: Path | None = None,
    user: str | None = None,
) -> EnvironmentCapture:
    """Tags and files describing where and how the current process runs (see the module
    docstring). Never raises for a missing git, a directory outside a repository or an
    unknown login name: that part is left out."""
    tags: dict[str, str] = {}
    files: dict[str, bytes] = {}
    if git:
        directory = _git_directory(cwd)
        state = _git_state(directory) if directory is not None else None
        if state is not None and directory is not None:
            git_tags, dirty, has_head = state
            tags.update(git_tags)
            if git_diff and dirty:
                diff = _git_diff(directory, has_head)
                if diff:
                    files[DIFF_PATH] = diff
    if packages:
        files[REQUIREMENTS_PATH] = installed_requirements()
    if system:
        tags.update(_system_tags(user))
    return EnvironmentCapture(tags=tags, files=files)


def strip_credentials(url: str) -> str:
    """``url`` without a password, and for http(s) without any user part (a token is often
    passed as the user name). scp-like addresses (``git@host:repo``) and paths are returned
    unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    keep_user = user and parts.scheme.lower() not in ("http", "https")
    netloc = f"{user}@{hostport}" if keep_user else hostport
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=1)
def installed_requirements() -> bytes:
    """Installed distributions as ``name==version`` lines, sorted case-insensitively; the
    first found wins when one is installed twice on ``sys.path``. Cached for the process."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except KeyError:
            continue
        if not name:
            continue
        found.setdefault(re.sub(r"[-_.]+", "-", name).lower(), f"{name}=={dist.version}")
    lines = sorted(found.values(), key=lambda line: (line.lower(), line))
    return "".join(line + "\n" for line in lines).encode()


# -- git ------------------------------------------------------------------------------------------


def _git_directory(cwd: Path | None) -> Path | None:
    if cwd is not None:
        return cwd
    entry = _main_file()
    if entry is not None and entry.parent.is_dir():
        return entry.parent
    try:
        return Path.cwd()
    except OSError:
        return None


def _run_git(directory: Path, *args: str) -> str | None:
    """stdout of a successful git command, or None (no git, no repository, timeout...)."""
    try:
        result = subprocess.run(
            [GIT_EXECUTABLE, "--no-optional-locks", *args],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", "replace")


def _git_state(directory: Path) -> tuple[dict[str, str], bool, bool] | None:
    """(tags, dirty, has a commit) from one ``git status`` and one ``git config``."""
    status = _run_git(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None:
        return None
    tags: dict[str, str] = {}
    dirty = has_head = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2].strip()
            if oid != "(initial)":
                tags["keel.git.commit"], has_head = oid, True
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2].strip()
            if head != "(detached)":
                tags["keel.git.branch"] = head
        elif line and not line.startswith("#"):
            dirty = True
    tags["keel.git.dirty"] = "true" if dirty else "false"
    remote = _run_git(directory, "config", "--get", "remote.origin.url")
    if remote and remote.strip():
        tags["keel.git.remote"] = strip_credentials(remote.strip())
    return tags, dirty, has_head


def _git_diff(directory: Path, has_head: bool) -> bytes | None:
    options = ("--no-color", "--no-ext-diff", "--no-textconv")
    commands = (
        [("diff", "HEAD", *options)]
        if has_head
        else [("diff", "--cached", *options), ("diff", *options)]
    )
    parts: list[bytes] = []
    budget = MAX_DIFF_BYTES
    for command in commands:
        output = _read_git_capped(directory, command, budget)
        if output is None:
            return None
        data, truncated = output
        parts.append(data)
        budget -= len(data)
        if truncated:
            cut = b"".join(parts)
            cut = cut[: cut.rfind(b"\n") + 1] if b"\n" in cut else cut
            return cut + f"# keel: diff truncated at {MAX_DIFF_BYTES} bytes\n".encode()
    return b"".join(parts)


def _read_git_capped(
    directory: Path, args: tuple[str, ...], limit: int
) -> tuple[bytes, bool] | None:
    """At most ``limit`` bytes of a git command's output and whether there was more; the
    process is killed when it passes the limit or :data:`DIFF_TIMEOUT`."""
    try:
        process = subprocess.Popen(
            [GIT_EXECUTABLE, "--no-optional-locks", *args],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    timer = threading.Timer(DIFF_TIMEOUT, process.kill)
    timer.daemon = True
    timer.start()
    try:
        assert process.stdout is not None
        with process.stdout:
            data = process.stdout.read(limit + 1)
            truncated = len(data) > limit
            if truncated:
                process.kill()
        returncode = process.wait()
    finally:
        timer.cancel()
    if truncated:
        return data[:limit], True
    if returncode != 0:
        return None
    return data, False


# -- system ---------------------------------------------------------------------------------------


def _main_file() -> Path | None:
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return Path(path).resolve() if isinstance(path, str) and path else None


@functools.lru_cache(maxsize=1)
def _static_system_tags() -> tuple[tuple[str, str], ...]:
    try:
        host = socket.gethostname()
    except OSError:
        host = platform.node()
    return (
        ("keel.python.version", platform.python_version()),
        ("keel.python.implementation", platform.python_implementation()),
        ("keel.platform", platform.platform()),
        ("keel.host", host),
    )


def _system_tags(user: str | None) -> dict[str, str]:
    entry = _main_file()
    argv = getattr(sys, "orig_argv", None) or sys.argv
    tags = {
        "keel.source.entrypoint": str(entry) if entry is not None else "<interactive>",
        "keel.source.command": _cap(shlex.join(argv)),
        **dict(_static_system_tags()),
    }
    name = user if user is not None else _login_name()
    if name:
        tags["keel.user"] = name
    return {k: v for k, v in tags.items() if v}


def _login_name() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # OSError, KeyError, ImportError: no login name to be found
        return None


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TAG_CHARS else text[: MAX_TAG_CHARS - 1] + "…"
