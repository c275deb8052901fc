"""Nothing buffered is lost when a process ends normally or through an exception."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from keel import Keel
from keel.tracking import RunStatus
from tests.tracking._support import make_settings

PRELUDE = """
import keel, sys
keel.connect({db!r}, artifacts_url={art!r}, capture_packages=False, metric_flush_interval=60.0)
"""


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / ".keel"
    code = PRELUDE.format(db=f"sqlite:///{home / 'keel.db'}", art=str(home / "artifacts"))
    code += textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )


def only_run(tmp_path: Path) -> tuple[RunStatus, int, str | None]:
    with Keel(make_settings(tmp_path / ".keel")) as client:
        (run,) = client.runs.search_runs().items
        history = client.runs.get_metric_history(run.run_id, "x")
        return run.status, len(history), run.error


def test_metrics_buffered_at_a_normal_exit_are_written_and_the_run_finished(
    tmp_path: Path,
) -> None:
    done = run_script(tmp_path, """
        run = keel.start_run("durable")
        for i in range(5000):
            keel.log_metric("x", float(i))
        print(run.run_id)
    """)
    assert done.returncode == 0, done.stderr
    status, count, _ = only_run(tmp_path)
    assert (status, count) == (RunStatus.FINISHED, 5000)


def test_metrics_buffered_before_an_uncaught_exception_are_written(tmp_path: Path) -> None:
    done = run_script(tmp_path, """
        with keel.start_run("durable"):
            for i in range(3000):
                keel.log_metric("x", float(i))
            raise RuntimeError("boom")
    """)
    assert done.returncode != 0 and "boom" in done.stderr
    status, count, error = only_run(tmp_path)
    assert (status, count) == (RunStatus.FAILED, 3000)
    assert error is not None and "RuntimeError: boom" in error


def test_a_client_never_closed_flushes_at_exit(tmp_path: Path) -> None:
    done = run_script(tmp_path, """
        c = keel.client()
        run = c.runs.create_run("durable")
        for i in range(1000):
            c.runs.log_metric(run.run_id, "x", float(i))
    """)
    assert done.returncode == 0, done.stderr
    _status, count, _ = only_run(tmp_path)
    assert count == 1000
