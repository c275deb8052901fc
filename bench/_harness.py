"""Shared helpers for keel's benchmarks (``bench/bench_*.py``).

A benchmark script is an *orchestrator*: it makes sure the peer tool is installed in its own
virtual environment under ``bench/.peers/<peer>``, then runs every (tool, workload) pair in a
fresh child process with a fresh working directory under ``bench/.work/``, and turns the JSON
line each child prints into a table.

This module is imported both by the orchestrator (keel's venv) and by children running in a peer
venv that has no keel and no rich, so it uses the standard library only.

Child side::

    with Stopwatch() as sw:
        ...                      # the timed work
    emit_result({"ops": n, **sw.as_dict()})   # adds peak RSS, prints one JSON line

Orchestrator side::

    peer = ensure_peer_venv("mlflow", ["mlflow>=3,<4"], dist="mlflow")
    result = run_child([peer.python, script, "--child", spec], cwd=new_workdir("mlflow-w1"))
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / ".peers"
WORK_DIR = BENCH_DIR / ".work"

RESULT_MARKER = "BENCH-RESULT "

MLFLOW_REQUIREMENT = "mlflow>=3,<4"
"""The MLflow peer every benchmark installs (into the one ``bench/.peers/mlflow``)."""

MLFLOW_ENV = {
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "GIT_PYTHON_REFRESH": "quiet",
}
"""Environment of every MLflow child: the default synchronous logging path, no system-metrics
sampling thread, no telemetry."""

NO_NETWORK_ENV = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
"""An unreachable proxy for everything but loopback: servers under test are reached directly,
any other network call fails instead of leaving the machine."""


# -- children ---------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB (``ru_maxrss``: KiB on Linux, bytes on
    macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        return rss / (1024 * 1024)
    return rss / 1024


class Stopwatch:
    """Wall time (``perf_counter``) and CPU time of the whole process, all threads included
    (``process_time``), of a ``with`` block."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self._wall0 = 0.0
        self._cpu0 = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}wall_s": self.wall, f"{prefix}cpu_s": self.cpu}


def emit_result(result: Mapping[str, Any]) -> None:
    """Print the child's single result line (peak RSS added) on stdout and flush it."""
    payload = dict(result)
    payload["peak_rss_mib"] = peak_rss_mib()
    payload["python"] = platform.python_version()
    sys.stdout.write(RESULT_MARKER + json.dumps(payload, sort_keys=True) + "\n")
    sys.stdout.flush()


class DataLossError(AssertionError):
    """A tool stored less (or other) data than the benchmark logged."""


def check(condition: bool, message: str) -> None:
    """Fail the child loudly (exit status 1, message on stderr) when ``condition`` is false."""
    if not condition:
        raise DataLossError(message)


def dispatch_child(
    children: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]], raw_spec: str,
    kind: str,
) -> int:
    """Run the child function named by ``<spec[kind]>:<spec['workload']>`` and print its
    result line; a failed data check exits 1 with the message on stderr."""
    spec = json.loads(raw_spec)
    func = children[f"{spec[kind]}:{spec['workload']}"]
    try:
        result = func(spec)
    except AssertionError as exc:
        print(f"DATA CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    emit_result(result)
    return 0


# -- orchestrator: processes, environments, directories ---------------------------------------


class ChildFailed(RuntimeError):
    def __init__(self, label: str, returncode: int | None, stderr: str, reason: str) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-25:])
        super().__init__(f"{label}: {reason} (exit status {returncode})\n{tail}")
        self.label = label
        self.returncode = returncode
        self.stderr = stderr
        self.reason = reason


def child_env(
    *,
    set_vars: Mapping[str, str] | None = None,
    drop_prefixes: Sequence[str] = (),
    pythonpath: Sequence[Path] = (),
) -> dict[str, str]:
    """A copy of this process's environment for a child: variables starting with any of
    ``drop_prefixes`` removed (so e.g. a developer's ``KEEL_*`` or ``MLFLOW_*`` settings don't
    leak into the measurement), ``set_vars`` applied, ``pythonpath`` prepended."""
    env = {
        k: v for k, v in os.environ.items() if not any(k.startswith(p) for p in drop_prefixes)
    }
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if set_vars:
        env.update(set_vars)
    return env


def run_child(
    argv: Sequence[str],
    *,
    label: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
) -> dict[str, Any]:
    """Run one child to completion and return the JSON object of its result line. Raises
    ``ChildFailed`` (with the tail of its stderr) on a non-zero exit, a timeout or a missing
    result line."""
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr if isinstance(exc.stderr, str) else (exc.stderr or b"").decode()
        raise ChildFailed(label, None, stderr, f"timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        raise ChildFailed(label, proc.returncode, proc.stderr, last[0])
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARKER):])
            return result
    raise ChildFailed(label, proc.returncode, proc.stderr, "printed no result line")


@dataclass(frozen=True)
class PeerVenv:
    name: str
    path: Path
    python: Path
    dist: str
    version: str


def _venv_python(path: Path) -> Path:
    if sys.platform == "win32":
        return path / "Scripts" / "python.exe"
    return path / "bin" / "python"


def _dist_version(python: Path, dist: str) -> str | None:
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    proc = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False,
        stdin=subprocess.DEVNULL,
    )
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def ensure_peer_venv(
    name: str,
    requirements: Sequence[str],
    *,
    dist: str,
    log: Callable[[str], None] = print,
) -> PeerVenv:
    """The peer tool's virtual environment ``bench/.peers/<name>``, created with
    ``python -m venv`` and ``pip install <requirements>`` on first use and reused afterwards
    (when the requirements recorded in it are the same and ``dist`` is importable)."""
    path = PEERS_DIR / name
    python = _venv_python(path)
    marker = path / ".bench-requirements"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        version = _dist_version(python, dist)
        if version is not None:
            log(f"peer {name}: reusing {path.relative_to(REPO_ROOT)} ({dist} {version})")
            return PeerVenv(name, path, python, dist, version)
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    if not python.exists():
        log(f"peer {name}: creating virtual environment {path.relative_to(REPO_ROOT)} ...")
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
        )
    log(f"peer {name}: pip install {' '.join(requirements)} (a few minutes the first time) ...")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *requirements],
        check=True,
    )
    version = _dist_version(python, dist)
    if version is None:
        raise RuntimeError(f"peer {name}: {dist} is not importable after pip install")
    marker.write_text(wanted)
    log(f"peer {name}: {dist} {version} installed")
    return PeerVenv(name, path, python, dist, version)


@contextlib.contextmanager
def work_session(keep: bool = False) -> Iterator[Callable[[str], Path]]:
    """A session directory under ``bench/.work/``; yields ``new_dir(label)`` which makes a
    fresh, empty directory per child. Everything is deleted at the end unless ``keep``."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    session = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=WORK_DIR))

    def new_dir(label: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=session))

    try:
        yield new_dir
    finally:
        if not keep:
            shutil.rmtree(session, ignore_errors=True)


# -- machine ----------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, str]:
    return {
        "cpus": str(os.cpu_count() or "?"),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
    }


# -- tables -----------------------------------------------------------------------------------


@dataclass
class Table:
    """A plain table that prints with rich when it is installed (the orchestrator's venv) and as
    aligned text otherwise, and renders as GitHub Markdown."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    right_align: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells, table has {len(self.columns)}")
        self.rows.append(["" if c is None else str(c) for c in cells])

    def print(self) -> None:
        try:
            from rich import box
            from rich.console import Console
            from rich.table import Table as RichTable
        except ImportError:
            print(self.to_text())
            return
        console = Console()
        if not console.is_terminal:  # piped or redirected: don't wrap at rich's default 80
            console = Console(width=160)
        table = RichTable(title=self.title, box=box.SIMPLE_HEAD, title_justify="left")
        for i, col in enumerate(self.columns):
            table.add_column(col, justify="right" if i in self.right_align else "left")
        for row in self.rows:
            table.add_row(*row)
        console.print(table)
        for note in self.notes:
            console.print(note, highlight=False, markup=False)
        console.print()

    def to_text(self) -> str:
        widths = [
            max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
            for i, c in enumerate(self.columns)
        ]

        def line(cells: Sequence[str]) -> str:
            out = [
                cell.rjust(widths[i]) if i in self.right_align else cell.ljust(widths[i])
                for i, cell in enumerate(cells)
            ]
            return "  ".join(out).rstrip()

        parts = [self.title, line(self.columns), line(["-" * w for w in widths])]
        parts += [line(r) for r in self.rows]
        parts += self.notes
        return "\n".join(parts) + "\n"

    def to_markdown(self) -> str:
        def esc(cell: str) -> str:
            return cell.replace("|", "\\|")

        align = ["---:" if i in self.right_align else "---" for i in range(len(self.columns))]
        parts = [f"**{self.title}**", ""]
        parts.append("| " + " | ".join(esc(c) for c in self.columns) + " |")
        parts.append("|" + "|".join(align) + "|")
        parts += ["| " + " | ".join(esc(c) for c in r) + " |" for r in self.rows]
        if self.notes:
            parts.append("")
            parts += [f"- {n}" for n in self.notes]
        return "\n".join(parts) + "\n"


# -- formatting -------------------------------------------------------------------------------


def fmt_seconds(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def fmt_rate(per_second: float, unit: str) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M {unit}/s"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f} k {unit}/s"
    return f"{per_second:.1f} {unit}/s"


def fmt_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:.0f}x"
    if ratio >= 10:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x"


def fmt_count(n: int) -> str:
    return f"{n:,}"
