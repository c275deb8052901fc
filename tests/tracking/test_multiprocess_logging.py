"""Eight processes logging through keel's public API into one store at once: nothing is lost and
no "database is locked" reaches anyone."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keel import Keel
from keel.config import load_settings

PROCESSES = 8
RUNS_PER_PROCESS = 3
METRICS_PER_RUN = 2000

WORKER = """
import sys, keel
keel.connect(sys.argv[1], artifacts_url=sys.argv[2], capture_packages=False,
             capture_git=False, metric_flush_interval=0.01, metric_flush_size=500)
for r in range({runs}):
    with keel.start_run("swarm", name=f"p{{sys.argv[3]}}-r{{r}}") as run:
        keel.log_params({{"proc": int(sys.argv[3]), "r": r}})
        for i in range({metrics}):
            keel.log_metric("x", float(i))
            if i % 500 == 0:
                keel.set_tag("progress", str(i))
print("ok")
"""


def swarm(database_url: str, artifacts: Path) -> None:
    code = textwrap.dedent(WORKER.format(runs=RUNS_PER_PROCESS, metrics=METRICS_PER_RUN))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, database_url, str(artifacts), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    failures = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        if proc.returncode != 0 or out.strip() != "ok":
            failures.append(err[-2000:])
    assert failures == []

    with Keel(load_settings({}, database_url=database_url, artifacts_url=str(artifacts))) as c:
        runs = c.runs.search_runs("swarm", max_results=1000).items
        assert len(runs) == PROCESSES * RUNS_PER_PROCESS
        for run in runs:
            history = c.runs.get_metric_history(run.run_id, "x")
            assert [m.value for m in history] == [float(i) for i in range(METRICS_PER_RUN)]
            assert run.status.value == "FINISHED"


@pytest.mark.slow
def test_eight_processes_logging_to_one_sqlite_store_lose_nothing(tmp_path: Path) -> None:
    swarm(f"sqlite:///{tmp_path / 'keel.db'}", tmp_path / "artifacts")


@pytest.mark.slow
@pytest.mark.postgres
def test_eight_processes_logging_to_postgresql_lose_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    swarm(postgres_url, tmp_path / "artifacts")
