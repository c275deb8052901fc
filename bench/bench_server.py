"""Server benchmark: keel server vs mlflow server, the same client workload, in one run.

    python bench/bench_server.py            # full size (about ten minutes; mlflow server is the
                                            # slow part)
    python bench/bench_server.py --quick    # smaller workloads, a few minutes
    python bench/bench_server.py --markdown /tmp/server.md   # also write the tables

Both servers run as subprocesses on loopback, each started fresh (new store, new port) for every
workload group, with the same worker count (1) for the sequential workloads:

- ``keel server --workers 1`` with ``KEEL_HOME=<fresh dir>``: the embedded default (SQLite +
  local artifacts), serving MLflow's REST API next to keel's own.
- ``mlflow server --backend-store-uri sqlite:///<dir>/mlflow.db --artifacts-destination
  <dir>/mlartifacts --serve-artifacts --workers 1`` (uvicorn in MLflow 3.x), from
  ``bench/.peers/mlflow``.

Workloads 1-4 are one piece of MLflow client code run against both servers (only the tracking
URI differs; the child runs in MLflow's venv, synchronous logging):

1. ``mlflow.log_metric``: 10,000 calls in one run, timed until ``end_run`` returns.
2. ``MlflowClient.log_batch``: 100,000 metric points in batches of 1,000 (MLflow's limit).
3. 2,000 runs, each ``start_run`` / ``log_params`` (3) / ``log_metrics`` (3) / ``end_run``.
4. ``MlflowClient.search_runs`` over those runs: ``metrics.acc > 0.5 and params.depth = '4'``
   ordered by ``metrics.acc DESC``; median of 5; both servers must return the same run names in
   the same order (and the order computed in Python).

Then keel's own client against keel server:

5. 10,000 ``keel.log_metric`` calls in one run (timed until ``end_run`` returns), compared with
   workload 1's MLflow client against mlflow server.
6. 16 client processes started together, 5,000 ``log_metric`` calls each into their own run,
   against ``keel server --workers 2`` on the embedded default (SQLite) and on PostgreSQL (a
   fresh schema, dropped afterwards); every run must hold exactly its 5,000 points and values.

Every child reads back what it logged; a tool that lost data fails the run (exit status 1).
Server peak memory is VmHWM of every process of the server (Linux ``/proc``), read just before
it is stopped. The same file is the child program (``--child SPEC``); its child side imports
only the standard library, ``bench/_harness.py`` and the client it measures.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from _harness import (
    MLFLOW_ENV,
    MLFLOW_REQUIREMENT,
    NO_NETWORK_ENV,
    REPO_ROOT,
    RESULT_MARKER,
    ChildFailed,
    Stopwatch,
    Table,
    check,
    child_env,
    dispatch_child,
    ensure_peer_venv,
    fmt_count,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    machine_info,
    run_child,
    work_session,
)

LOOPBACK = "127.0.0.1"
# mlflow server 3.x also starts a background job runner (huey consumers for its GenAI jobs) next
# to the web server. Its idle polling takes CPU from the server on a small machine and has no
# part in tracking, so it is off unless --mlflow-job-runner is given (the tables say which).
MLFLOW_NO_JOB_RUNNER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

SEARCH_FILTER = "metrics.acc > 0.5 and params.depth = '4'"
SEARCH_ORDER = "metrics.acc DESC"
SEARCH_MAX_RESULTS = 1000
SEARCH_SEED = 20240501
BATCH_KEYS = 10
SEQUENTIAL_WORKERS = 1
CONCURRENT_WORKERS = 2
KEEL_NO_CAPTURE = {"capture_git": False, "capture_packages": False, "capture_system": False}


# =============================================================================================
# Child side: runs inside MLflow's peer venv (workloads 1-4) or keel's venv (5, 6). Tool
# imports stay in functions.
# =============================================================================================


def _now_ms() -> int:
    return int(time.time() * 1000)


def _metric_value(i: int) -> float:
    return 1.0 / (i + 1)


def _client_value(client: int, step: int) -> float:
    """Workload 6: a value that tells the client and the step apart."""
    return client * 1_000_000 + step + 1.0 / (step + 3)


def _run_rows(n: int) -> list[tuple[str, dict[str, Any], dict[str, float]]]:
    """Workload 3's runs, the same for both servers: (name, 3 params, 3 metrics)."""
    rng = random.Random(SEARCH_SEED)
    return [
        (f"run-{i:05d}",
         {"lr": rng.choice([0.001, 0.01, 0.1]), "depth": rng.choice([2, 4, 6, 8]),
          "batch": rng.choice([32, 64, 128])},
         {"acc": rng.random(), "loss": rng.random(), "f1": rng.random()})
        for i in range(n)
    ]


def _expected_search(rows: list[tuple[str, dict[str, Any], dict[str, float]]]) -> list[str]:
    hits = [r for r in rows if r[2]["acc"] > 0.5 and r[1]["depth"] == 4]
    hits.sort(key=lambda r: r[2]["acc"], reverse=True)
    return [r[0] for r in hits[:SEARCH_MAX_RESULTS]]


def _digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def _check_history(points: list[tuple[int, float]], n: int, what: str,
                   value: Callable[[int], float]) -> None:
    check(len(points) == n, f"{what}: logged {n:,} points, the server returned {len(points):,}")
    points = sorted(points)
    check([s for s, _ in points] == list(range(n)), f"{what}: steps differ from 0..{n - 1}")
    bad = [s for s, v in points if v != value(s)]
    check(not bad, f"{what}: {len(bad)} values differ from what was logged (first step {bad[:1]})")


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p99": at(0.99), "max": ordered[-1]}


# -- MLflow client (workloads 1-4; the same code against both servers) ------------------------


def _mlflow_open(spec: dict[str, Any], experiment: str) -> tuple[Any, Any]:
    import mlflow

    mlflow.set_tracking_uri(spec["url"])
    return mlflow.set_experiment(experiment), mlflow.MlflowClient()


def mlflow_log_metric(spec: dict[str, Any]) -> dict[str, Any]:
    import mlflow

    n = spec["n"]
    exp, client = _mlflow_open(spec, "bench-log-metric")
    with Stopwatch() as create:
        run = mlflow.start_run(experiment_id=exp.experiment_id)
    with Stopwatch() as sw:
        t0 = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("loss", _metric_value(i), step=i)
        loop_s = time.perf_counter() - t0
        mlflow.end_run()
    history = client.get_metric_history(run.info.run_id, "loss")
    _check_history([(m.step, m.value) for m in history], n, "log_metric", _metric_value)
    status = client.get_run(run.info.run_id).info.status
    check(status == "FINISHED", f"run status is {status}, expected FINISHED")
    return {"ops": n, "loop_s": loop_s, "create_run_s": create.wall, **sw.as_dict()}


def mlflow_log_batch(spec: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric

    n, batch = spec["n"], spec["batch"]
    keys = [f"m{k}" for k in range(BATCH_KEYS)]
    exp, client = _mlflow_open(spec, "bench-log-batch")
    run_id = mlflow.start_run(experiment_id=exp.experiment_id).info.run_id
    with Stopwatch() as sw:
        for start in range(0, n, batch):
            ts = _now_ms()
            metrics = [
                Metric(keys[i % BATCH_KEYS], _metric_value(i // BATCH_KEYS), ts, i // BATCH_KEYS)
                for i in range(start, min(start + batch, n))
            ]
            client.log_batch(run_id, metrics=metrics)
    mlflow.end_run()
    stored = 0
    for key in keys:
        history = client.get_metric_history(run_id, key)
        _check_history([(m.step, m.value) for m in history], n // BATCH_KEYS, f"metric {key}",
                       _metric_value)
        stored += len(history)
    check(stored == n, f"the server stored {stored:,} points of {n:,}")
    return {"ops": n, "requests": -(-n // batch), **sw.as_dict()}


def mlflow_runs_search(spec: dict[str, Any]) -> dict[str, Any]:
    """Workload 3 (create the runs, timed), its read-back check, then workload 4 (search)."""
    import mlflow

    n, repeats = spec["n"], spec["searches"]
    rows = _run_rows(n)
    expected = _expected_search(rows)
    exp, client = _mlflow_open(spec, "bench-runs")
    with Stopwatch() as populate:
        for name, params, metrics in rows:
            mlflow.start_run(experiment_id=exp.experiment_id, run_name=name)
            mlflow.log_params(params)
            mlflow.log_metrics(metrics, step=0)
            mlflow.end_run()

    # Read back every run (pages of 1,000): name, status, params, metrics.
    stored: list[Any] = []
    token = None
    while True:
        page = client.search_runs([exp.experiment_id], max_results=1000, page_token=token)
        stored.extend(page)
        token = page.token
        if not token:
            break
    check(len(stored) == n, f"created {n:,} runs, the server lists {len(stored):,}")
    by_name = {r.info.run_name: r for r in stored}
    check(len(by_name) == n, f"{n - len(by_name)} run names are duplicated or missing")
    for name, params, metrics in rows:
        run = by_name.get(name)
        check(run is not None, f"run {name} is missing")
        check(run.info.status == "FINISHED", f"run {name} is {run.info.status}, not FINISHED")
        check(run.data.params == {k: str(v) for k, v in params.items()},
              f"run {name}: params {run.data.params} differ from {params}")
        check(run.data.metrics == metrics,
              f"run {name}: metrics {run.data.metrics} differ from {metrics}")

    times, cpus, names = [], [], []
    for _ in range(repeats):
        with Stopwatch() as sw:
            runs = client.search_runs([exp.experiment_id], filter_string=SEARCH_FILTER,
                                      order_by=[SEARCH_ORDER], max_results=SEARCH_MAX_RESULTS)
        times.append(sw.wall)
        cpus.append(sw.cpu)
        names = [r.info.run_name for r in runs]
        check(names == expected, f"search returned {len(names)} runs, expected "
              f"{len(expected)} (or a different order)")
    if runs:
        top = runs[0]
        check(top.data.params["depth"] == "4" and top.data.metrics["acc"] > 0.5,
              "search: the top run does not match the filter")
    return {"ops": n, "runs": n, "returned": len(names), "digest": _digest(names),
            "wall_s": populate.wall, "cpu_s": populate.cpu,
            "search_times_s": times, "search_wall_s": statistics.median(times),
            "search_cpu_s": statistics.median(cpus)}


# -- keel's own client (workloads 5, 6) ----------------------------------------------------------


def _keel_connect(spec: dict[str, Any]) -> Any:
    import keel

    return keel.connect(spec["url"], **KEEL_NO_CAPTURE)


def keel_log_metric(spec: dict[str, Any]) -> dict[str, Any]:
    import keel

    n = spec["n"]
    client = _keel_connect(spec)
    with Stopwatch() as create:
        run = keel.start_run("bench-log-metric")
    with Stopwatch() as sw:
        t0 = time.perf_counter()
        for i in range(n):
            keel.log_metric("loss", _metric_value(i), step=i)
        loop_s = time.perf_counter() - t0
        keel.end_run()
    history = client.runs.get_metric_history(run.run_id, "loss")
    _check_history([(m.step, m.value) for m in history], n, "keel log_metric", _metric_value)
    status = client.runs.get_run(run.run_id).status.value
    check(status == "FINISHED", f"keel run status is {status}, expected FINISHED")
    keel.disconnect()
    return {"ops": n, "loop_s": loop_s, "create_run_s": create.wall, **sw.as_dict()}


def keel_concurrent_client(spec: dict[str, Any]) -> dict[str, Any]:
    """One of workload 6's clients: get ready, wait for the common start, log, end the run."""
    import keel

    n, index = spec["n"], spec["index"]
    barrier = Path(spec["barrier"])
    _keel_connect(spec)
    run = keel.start_run(spec["experiment"], f"client-{index:02d}")
    (barrier / f"ready-{index}").touch()
    go = barrier / "go"
    deadline = time.monotonic() + 300
    while not go.exists():
        check(time.monotonic() < deadline, "the start signal never came")
        time.sleep(0.001)
    latencies = []
    start_epoch = time.time()
    with Stopwatch() as sw:
        for step in range(n):
            t0 = time.perf_counter()
            keel.log_metric("value", _client_value(index, step), step=step)
            latencies.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        keel.end_run()
        end_run_s = time.perf_counter() - t0
    end_epoch = time.time()
    keel.disconnect()
    return {"ops": n, "index": index, "run_id": run.run_id,
            "experiment_id": run.experiment_id, "start_epoch": start_epoch,
            "end_epoch": end_epoch, "end_run_s": end_run_s,
            "call_s": _percentiles(latencies), **sw.as_dict()}


def keel_concurrent_verify(spec: dict[str, Any]) -> dict[str, Any]:
    """After all of workload 6's clients are done: every run has exactly its points and values,
    and the experiment has exactly those runs."""
    import keel

    n = spec["n"]
    client = _keel_connect(spec)
    points = 0
    for run_id, index in spec["runs"]:
        history = client.runs.get_metric_history(run_id, "value")
        _check_history([(m.step, m.value) for m in history], n, f"client {index} ({run_id})",
                       lambda step, index=index: _client_value(index, step))
        status = client.runs.get_run(run_id).status.value
        check(status == "FINISHED", f"client {index}: run status is {status}, not FINISHED")
        points += len(history)
    listed = keel.search_runs(spec["experiment_id"], max_results=1000).items
    check(sorted(r.run_id for r in listed) == sorted(r for r, _ in spec["runs"]),
          f"the experiment lists {len(listed)} runs, expected exactly the "
          f"{len(spec['runs'])} clients' runs")
    keel.disconnect()
    return {"ops": points, "runs": len(spec["runs"])}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "mlflow:log_metric": mlflow_log_metric,
    "mlflow:log_batch": mlflow_log_batch,
    "mlflow:runs_search": mlflow_runs_search,
    "keel:log_metric": keel_log_metric,
    "keel:concurrent_client": keel_concurrent_client,
    "keel:concurrent_verify": keel_concurrent_verify,
}


def child_main(raw_spec: str) -> int:
    return dispatch_child(CHILDREN, raw_spec, "client")


# =============================================================================================
# Orchestrator side: servers
# =============================================================================================


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with _DIRECT.open(url, timeout=timeout) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


# -- /proc: the server's processes, their peak RSS and CPU time --------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state is [0], ppid [1])."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()


def _process_tree(root: int) -> dict[int, str]:
    """``root`` and all its descendants, as pid -> start time (to recognise them later)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        starts[int(entry)] = fields[19]
    tree: dict[int, str] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in starts and pid not in tree:
            tree[pid] = starts[pid]
            todo.extend(children.get(pid, []))
    return tree


def _vm_hwm_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpu_s(pid: int) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _cmd_name(pid: int) -> str:
    """A short name for one of the server's processes: "keel server", "mlflow server",
    "uvicorn", "mlflow.server.jobs._job_runner", ..."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in argv if a]
    if "-m" in words[:-1]:
        return words[words.index("-m") + 1]
    if "-c" in words[:-1]:
        return "multiprocessing worker" if "multiprocessing" in " ".join(words) else "python -c"
    if "server" in words:
        scripts = [Path(w).name for w in words[:words.index("server")]]
        return f"{scripts[-1]} server" if scripts else "server"
    return Path(words[0]).name if words else "?"


@dataclass
class ServerStats:
    processes: list[tuple[int, str, float | None]]  # pid, command, VmHWM MiB
    cpu_s: float

    @property
    def rss_total(self) -> float | None:
        values = [r for _, _, r in self.processes if r is not None]
        return sum(values) if values else None

    @property
    def rss_largest(self) -> float | None:
        values = [r for _, _, r in self.processes if r is not None]
        return max(values) if values else None

    def fmt_rss(self) -> str:
        total, largest = self.rss_total, self.rss_largest
        if total is None or largest is None:
            return "n/a"
        n = len(self.processes)
        if n == 1:
            return f"{total:.0f} MiB (1 proc)"
        return f"{total:.0f} MiB ({n} procs, largest {largest:.0f})"


@dataclass
class Server:
    kind: str  # "keel" | "mlflow"
    proc: subprocess.Popen[bytes]
    url: str
    workers: int
    log_path: Path
    store: str
    _cpu_mark: dict[int, float] = field(default_factory=dict)

    def pids(self) -> dict[int, str]:
        return _process_tree(self.proc.pid)

    def mark_cpu(self) -> None:
        """Start counting server CPU time from now (for ``stats``)."""
        self._cpu_mark = {pid: _cpu_s(pid) for pid in self.pids()}

    def stats(self) -> ServerStats:
        procs, cpu = [], 0.0
        for pid in sorted(self.pids()):
            procs.append((pid, _cmd_name(pid), _vm_hwm_mib(pid)))
            cpu += _cpu_s(pid) - self._cpu_mark.get(pid, 0.0)
        return ServerStats(procs, cpu)

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def _alive(pid: int, start: str) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[19] == start and fields[0] != "Z"


def stop_server(server: Server) -> None:
    """SIGTERM to the server's process group (it runs in its own session), SIGKILL after 20 s,
    then SIGKILL to any of its processes that outlived it (recognised by pid and start time)."""
    tree = server.pids()
    proc = server.proc
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            progress(f"    {server.kind} server did not stop in 20 s: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(p, s) for p, s in tree.items()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid, start in tree.items():
        if _alive(pid, start):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_server(
    kind: str, workdir: Path, *, workers: int, mlflow_bin: Path | None = None,
    mlflow_job_runner: bool = False, database_url: str | None = None,
    startup_timeout: float = 180,
) -> Iterator[Server]:
    """Start a fresh server on a free loopback port, wait for ``GET /health`` == 200, yield it,
    and always stop it (and everything it started)."""
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    common = ["--host", LOOPBACK, "--port", str(port), "--workers", str(workers)]
    if kind == "keel":
        keel_bin = Path(sys.executable).with_name("keel")
        argv = ([str(keel_bin)] if keel_bin.exists()
                else [sys.executable, "-m", "keel.cli"])
        argv += ["server", *common, "--log-level", "warning"]
        extra = {"KEEL_HOME": str(workdir / ".keel")}
        if database_url:
            extra["KEEL_DATABASE_URL"] = database_url
        env = child_env(set_vars={**NO_NETWORK_ENV, **extra},
                        drop_prefixes=("KEEL_", "MLFLOW_"), pythonpath=[REPO_ROOT])
        store = "PostgreSQL" if database_url else "SQLite (embedded default)"
    else:
        assert mlflow_bin is not None
        argv = [str(mlflow_bin), "server",
                "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
                "--artifacts-destination", str(workdir / "mlartifacts"), "--serve-artifacts",
                *common]
        jobs = {} if mlflow_job_runner else MLFLOW_NO_JOB_RUNNER_ENV
        env = child_env(set_vars={**MLFLOW_ENV, **NO_NETWORK_ENV, **jobs},
                        drop_prefixes=("KEEL_", "MLFLOW_"))
        store = "SQLite"
    log_path = workdir / f"{kind}-server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(kind, proc, url, workers, log_path, store)
    try:
        started = time.perf_counter()
        while http_status(f"{url}/health") != 200:
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} server exited with status {proc.returncode} before "
                                   f"answering /health:\n{server.log_tail()}")
            if time.perf_counter() - started > startup_timeout:
                raise RuntimeError(f"{kind} server did not answer /health within "
                                   f"{startup_timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.1)
        progress(f"    {kind} server up on {url} in {time.perf_counter() - started:.1f} s "
                 f"({len(server.pids())} process(es), --workers {workers})")
        yield server
    finally:
        stop_server(server)


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL database at ``url``, dropped afterwards; yields the
    keel database URL that puts it on the search path."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"bench_server_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# =============================================================================================
# Orchestrator side: workloads
# =============================================================================================


@dataclass(frozen=True)
class Sizes:
    w1: int  # mlflow.log_metric calls
    w2: int  # metric points through log_batch
    w3_runs: int
    w5: int  # keel.log_metric calls
    w6_clients: int
    w6_points: int  # per client
    batch: int = 1000
    searches: int = 5


FULL = Sizes(w1=10_000, w2=100_000, w3_runs=2_000, w5=10_000, w6_clients=16, w6_points=5_000)
QUICK = Sizes(w1=2_000, w2=20_000, w3_runs=300, w5=10_000, w6_clients=16, w6_points=1_000)


@dataclass
class Measurement:
    workload: str  # "w1" | "w2" | "w34" | "w5"
    server: str  # "keel" | "mlflow"
    result: dict[str, Any] | None = None
    stats: ServerStats | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.error is None


@dataclass
class ConcurrentResult:
    store: str
    clients: list[dict[str, Any]] = field(default_factory=list)
    verified: dict[str, Any] | None = None
    stats: ServerStats | None = None
    error: str | None = None
    skipped: str | None = None


@dataclass
class Context:
    sizes: Sizes
    script: Path
    mlflow_python: Path
    mlflow_bin: Path
    new_dir: Callable[[str], Path]
    timeout: float
    mlflow_job_runner: bool = False

    def client_env(self, client: str) -> dict[str, str]:
        if client == "keel":
            return child_env(set_vars=NO_NETWORK_ENV, drop_prefixes=("KEEL_", "MLFLOW_"),
                             pythonpath=[REPO_ROOT])
        return child_env(set_vars={**MLFLOW_ENV, **NO_NETWORK_ENV},
                         drop_prefixes=("KEEL_", "MLFLOW_"))

    def python(self, client: str) -> Path:
        return Path(sys.executable) if client == "keel" else self.mlflow_python

    def argv(self, spec: dict[str, Any]) -> list[str]:
        return [str(self.python(spec["client"])), str(self.script), "--child", json.dumps(spec)]


def _failure(exc: Exception, server: Server | None) -> str:
    """Report a failed child or server on stderr (with the server's last log lines); return the
    one-line reason for the tables."""
    detail = str(exc) or type(exc).__name__
    reason = exc.reason if isinstance(exc, ChildFailed) else detail.splitlines()[0]
    progress(f"    FAILED: {detail}")
    if server is not None:
        tail = server.log_tail(15)
        if tail:
            progress(f"    {server.kind} server log (last lines):\n{tail}")
    return reason


def run_sequential(ctx: Context, workload: str, server_kind: str) -> Measurement:
    """One workload group on one fresh server: start it, run the MLflow (or keel) client child,
    read the server's peak RSS, stop it."""
    m = Measurement(workload, server_kind)
    sizes = ctx.sizes
    specs = {
        "w1": {"client": "mlflow", "workload": "log_metric", "n": sizes.w1},
        "w2": {"client": "mlflow", "workload": "log_batch", "n": sizes.w2, "batch": sizes.batch},
        "w34": {"client": "mlflow", "workload": "runs_search", "n": sizes.w3_runs,
                "searches": sizes.searches},
        "w5": {"client": "keel", "workload": "log_metric", "n": sizes.w5},
    }
    spec = specs[workload]
    workdir = ctx.new_dir(f"{workload}-{server_kind}")
    server: Server | None = None
    started = time.perf_counter()
    try:
        with running_server(server_kind, workdir, workers=SEQUENTIAL_WORKERS,
                            mlflow_bin=ctx.mlflow_bin,
                            mlflow_job_runner=ctx.mlflow_job_runner) as server:
            server.mark_cpu()
            client_dir = workdir / "client"
            client_dir.mkdir()
            try:
                m.result = run_child(ctx.argv({**spec, "url": server.url}),
                                     label=f"{workload} {spec['client']} client -> "
                                     f"{server_kind} server",
                                     cwd=client_dir, env=ctx.client_env(spec["client"]),
                                     timeout=ctx.timeout)
            finally:
                m.stats = server.stats()
    except (ChildFailed, RuntimeError, OSError) as exc:
        m.error = _failure(exc, server)
        return m
    progress(f"    done in {time.perf_counter() - started:.1f} s (server start, child, stop)")
    return m


def _spawn(ctx: Context, spec: dict[str, Any], cwd: Path) -> tuple[subprocess.Popen[str],
                                                                    TextIO, TextIO]:
    out = open(cwd / "stdout.txt", "w+")  # noqa: SIM115 - closed in _collect
    err = open(cwd / "stderr.txt", "w+")  # noqa: SIM115
    proc = subprocess.Popen(ctx.argv(spec), cwd=cwd, env=ctx.client_env(spec["client"]),
                            stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True)
    return proc, out, err


def _collect(label: str, proc: subprocess.Popen[str], out: TextIO, err: TextIO,
             timeout: float) -> dict[str, Any]:
    """The same contract as ``run_child``, for a child started with ``_spawn``."""
    timed_out = False
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    try:
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    finally:
        out.close()
        err.close()
    if timed_out:
        raise ChildFailed(label, proc.returncode, stderr, f"timed out after {timeout:.0f} s")
    if proc.returncode != 0:
        last = stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        raise ChildFailed(label, proc.returncode, stderr, last[0])
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARKER):])
            return result
    raise ChildFailed(label, proc.returncode, stderr, "printed no result line")


def run_concurrent(ctx: Context, store: str, database_url: str | None) -> ConcurrentResult:
    """Workload 6 on one fresh keel server (``--workers 2``): N client processes get ready
    (imports, connection, run created), start logging together, then one more child checks
    every run."""
    sizes = ctx.sizes
    res = ConcurrentResult(store)
    workdir = ctx.new_dir(f"w6-{store.split()[0].lower()}")
    barrier = workdir / "barrier"
    barrier.mkdir()
    server: Server | None = None
    started = time.perf_counter()
    procs: list[tuple[int, subprocess.Popen[str], TextIO, TextIO]] = []
    try:
        with running_server("keel", workdir, workers=CONCURRENT_WORKERS,
                            database_url=database_url) as server:
            server.mark_cpu()
            try:
                for index in range(sizes.w6_clients):
                    spec = {"client": "keel", "workload": "concurrent_client", "url": server.url,
                            "n": sizes.w6_points, "index": index, "barrier": str(barrier),
                            "experiment": "bench-concurrent"}
                    cwd = workdir / f"client-{index:02d}"
                    cwd.mkdir()
                    procs.append((index, *_spawn(ctx, spec, cwd)))
                deadline = time.monotonic() + 300
                while len(list(barrier.glob("ready-*"))) < sizes.w6_clients:
                    dead = [i for i, p, _, _ in procs if p.poll() is not None]
                    if dead or time.monotonic() > deadline:
                        (barrier / "go").touch()  # release the others, then collect the failure
                        break
                    time.sleep(0.01)
                else:
                    (barrier / "go").touch()
                for index, proc, out, err in procs:
                    res.clients.append(_collect(f"w6 {store} client {index}", proc, out, err,
                                                ctx.timeout))
                procs.clear()
                if len(res.clients) != sizes.w6_clients:
                    raise RuntimeError("not every client reported")
                verify = {"client": "keel", "workload": "concurrent_verify", "url": server.url,
                          "n": sizes.w6_points, "experiment_id": res.clients[0]["experiment_id"],
                          "runs": [[c["run_id"], c["index"]] for c in res.clients]}
                verify_dir = workdir / "verify"
                verify_dir.mkdir()
                res.verified = run_child(ctx.argv(verify), label=f"w6 {store} check",
                                         cwd=verify_dir, env=ctx.client_env("keel"),
                                         timeout=ctx.timeout)
            finally:
                for _, proc, out, err in procs:  # only left when something failed
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                    out.close()
                    err.close()
                res.stats = server.stats()
    except (ChildFailed, RuntimeError, OSError) as exc:
        res.error = _failure(exc, server)
        return res
    progress(f"    done in {time.perf_counter() - started:.1f} s (server start, clients, check, "
             "stop)")
    return res


# =============================================================================================
# Orchestrator side: tables
# =============================================================================================

TARGET_MLFLOW_API = 5
TARGET_OWN_CLIENT = 50


def _wall(m: Measurement | None, key: str = "wall_s") -> float | None:
    return float(m.result[key]) if m is not None and m.ok and m.result else None


def _ratio(slow: float | None, fast: float | None) -> float | None:
    return slow / fast if slow and fast else None


def _met(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "not measured"
    return "met" if ratio >= target else "MISSED"


@dataclass
class Row:
    workload: str  # table label
    what: str  # work description
    key: str  # measurement key
    result_key: str
    unit: str


def rows_for(sizes: Sizes) -> list[Row]:
    return [
        Row("1. mlflow.log_metric", f"{fmt_count(sizes.w1)} calls, one run", "w1", "wall_s",
            "calls"),
        Row("2. MlflowClient.log_batch", f"{fmt_count(sizes.w2)} metrics, batches of "
            f"{fmt_count(sizes.batch)}", "w2", "wall_s", "metrics"),
        Row("3. create runs", f"{fmt_count(sizes.w3_runs)} runs x (3 params, 3 metrics)",
            "w34", "wall_s", "runs"),
        Row("4. search_runs", f"filter + order over {fmt_count(sizes.w3_runs)} runs, median of "
            f"{sizes.searches}", "w34", "search_wall_s", "searches"),
    ]


def _throughput(row: Row, m: Measurement, sizes: Sizes) -> str:
    assert m.result is not None
    wall = float(m.result[row.result_key])
    if row.unit == "searches":
        return fmt_rate(1 / wall, "searches")
    ops = {"w1": sizes.w1, "w2": sizes.w2, "w34": sizes.w3_runs}[row.key]
    return fmt_rate(ops / wall, row.unit)


def summary_table(results: dict[tuple[str, str], Measurement],
                  concurrent: list[ConcurrentResult], sizes: Sizes, quick: bool,
                  mlflow_version: str, mlflow_job_runner: bool) -> Table:
    """Workload | keel | mlflow | ratio | target | met."""
    table = Table("keel server vs mlflow server: same client, one machine",
                  ["Workload", "keel server", "mlflow server", "keel faster by", "Ceiling",
                   "Target", "Result"], right_align={1, 2, 3, 4, 5})
    for row in rows_for(sizes):
        keel, ml = results.get((row.key, "keel")), results.get((row.key, "mlflow"))
        if keel is None and ml is None:
            continue
        cells = []
        for m in (keel, ml):
            if m is None:
                cells.append("not run")
            elif not m.ok:
                cells.append("FAILED")
            else:
                cells.append(fmt_seconds(_wall(m, row.result_key) or 0.0))
        ratio = _ratio(_wall(ml, row.result_key), _wall(keel, row.result_key))
        cpu_key = "search_cpu_s" if row.result_key == "search_wall_s" else "cpu_s"
        ceiling = _ratio(_wall(ml, row.result_key), _wall(keel, cpu_key))
        table.add(f"{row.workload} ({row.what})", *cells,
                  fmt_ratio(ratio) if ratio is not None else "",
                  fmt_ratio(ceiling) if ceiling is not None else "",
                  f">= {TARGET_MLFLOW_API}x", _met(ratio, TARGET_MLFLOW_API))
    w5, w1_ml = results.get(("w5", "keel")), results.get(("w1", "mlflow"))
    keel_rate = sizes.w5 / w5_wall if (w5_wall := _wall(w5)) else None
    ml_rate = sizes.w1 / w1_wall if (w1_wall := _wall(w1_ml)) else None
    ratio5 = _ratio(keel_rate, ml_rate)
    if w5 is not None or w1_ml is not None:
        table.add(
            f"5. log_metric, each tool's own client ({fmt_count(sizes.w5)} keel.log_metric vs "
            "workload 1's mlflow.log_metric)",
            fmt_rate(keel_rate, "calls") if keel_rate else ("FAILED" if w5 else "not run"),
            fmt_rate(ml_rate, "calls") if ml_rate else ("FAILED" if w1_ml else "not run"),
            fmt_ratio(ratio5) if ratio5 else "", "", f">= {TARGET_OWN_CLIENT}x",
            _met(ratio5, TARGET_OWN_CLIENT))
    for c in concurrent:
        label = (f"6. {sizes.w6_clients} concurrent keel clients x "
                 f"{fmt_count(sizes.w6_points)} log_metric, {c.store}")
        total = sizes.w6_clients * sizes.w6_points
        if c.skipped:
            table.add(label, f"skipped: {c.skipped}", "-", "", "", "no data lost",
                      "not measured")
        elif c.error or not c.verified:
            table.add(label, "FAILED", "-", "", "", "no data lost", "MISSED")
        else:
            rate = total / _concurrent_elapsed(c)
            table.add(label, f"{fmt_count(c.verified['ops'])} of {fmt_count(total)} points, "
                      f"{fmt_rate(rate, 'points')}", "-", "", "", "no data lost", "met")
    notes = [
        f"Both servers on 127.0.0.1, started fresh (new store, new port) for each workload group "
        f"(1, 2, 3+4, 5, each 6), --workers {SEQUENTIAL_WORKERS} for workloads 1-5. keel server: "
        f"embedded default (KEEL_HOME: SQLite + local artifacts). mlflow server {mlflow_version}: "
        "--backend-store-uri sqlite:///..., --artifacts-destination + --serve-artifacts "
        "(uvicorn), "
        + ("with its background job runner (its default)." if mlflow_job_runner else
           "background job runner off (MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false: its idle huey "
           "consumers would take CPU from the server; --mlflow-job-runner keeps it)."),
        "Workloads 1-4: the same MLflow client code (MLflow's venv, synchronous logging) against "
        "both servers; only the tracking URI differs. Times are wall clock of the client, "
        "1: first log_metric until end_run returned; 2: until the last log_batch returned; "
        "3: creating all runs (start_run, log_params, log_metrics, end_run); 4: median search.",
        "Ceiling: the most any server could gain over mlflow server on that workload with "
        "this client: mlflow server's time divided by the MLflow client's own CPU time in the "
        "keel server run (the client runs its part of every call, however fast the server "
        "answers).",
        "5: keel's own client (buffered metrics, sent column-wise) against keel server, first "
        "log_metric until end_run returned, as throughput against workload 1's MLflow client "
        "against mlflow server.",
        "Every workload read its data back from the server (history length, steps, values; all "
        "runs with their params and metrics; search results against the order computed in "
        "Python and between the two servers); a mismatch fails the benchmark.",
    ]
    if quick:
        notes.append("Sizes: --quick (targets are defined at full size).")
    table.notes.extend(notes)
    return table


def detail_table(results: dict[tuple[str, str], Measurement], sizes: Sizes) -> Table:
    table = Table("Details per server", ["Workload", "Server", "Wall", "Throughput",
                                         "Client CPU", "Server CPU", "Server peak RSS"],
                  right_align={2, 3, 4, 5, 6})
    for row in rows_for(sizes):
        for kind in ("keel", "mlflow"):
            m = results.get((row.key, kind))
            if m is None:
                continue
            rss = m.stats.fmt_rss() if m.stats else "n/a"
            if not m.ok or m.result is None:
                table.add(row.workload, f"{kind} server", "FAILED", m.error or "", "", "", rss)
                continue
            cpu_key = "search_cpu_s" if row.result_key == "search_wall_s" else "cpu_s"
            server_cpu = "(in 3)" if row.key == "w34" and row.unit == "searches" else (
                fmt_seconds(m.stats.cpu_s) if m.stats else "n/a")
            table.add(row.workload, f"{kind} server", fmt_seconds(m.result[row.result_key]),
                      _throughput(row, m, sizes), fmt_seconds(m.result[cpu_key]), server_cpu,
                      "(in 3)" if row.unit == "searches" else rss)
    w5 = results.get(("w5", "keel"))
    if w5 is not None:
        rss = w5.stats.fmt_rss() if w5.stats else "n/a"
        if w5.ok and w5.result:
            table.add("5. keel.log_metric (keel client)", "keel server",
                      fmt_seconds(w5.result["wall_s"]),
                      fmt_rate(w5.result["ops"] / w5.result["wall_s"], "calls"),
                      fmt_seconds(w5.result["cpu_s"]),
                      fmt_seconds(w5.stats.cpu_s) if w5.stats else "n/a", rss)
        else:
            table.add("5. keel.log_metric (keel client)", "keel server", "FAILED",
                      w5.error or "", "", "", rss)
    table.notes.extend([
        "Client CPU: process_time of the client child during the timed part (4: median "
        "search). Server CPU: user + system time of all server processes while the client child "
        "ran (its setup and read-back checks included), from /proc/<pid>/stat.",
        "Server peak RSS: VmHWM from /proc/<pid>/status of every process of the server, read "
        "just before it was stopped, summed (procs = how many processes the server ran: "
        "mlflow server runs its CLI process next to the uvicorn worker; the largest single "
        "process is named too). Rows 3 and 4 share one server.",
    ])
    w1 = results.get(("w1", "keel")), results.get(("w1", "mlflow"))
    for m, name in zip(w1, ("keel server", "mlflow server"), strict=True):
        if m is not None and m.ok and m.result:
            table.notes.append(
                f"1 on {name}: {m.result['loop_s'] / m.result['ops'] * 1e3:.2f} ms per "
                f"mlflow.log_metric call (one HTTP request each); end_run took "
                f"{fmt_seconds(m.result['wall_s'] - m.result['loop_s'])}.")
    if w5 is not None and w5.ok and w5.result:
        table.notes.append(
            f"5: {w5.result['loop_s'] / w5.result['ops'] * 1e6:.1f} us per keel.log_metric call "
            f"while logging, then {fmt_seconds(w5.result['wall_s'] - w5.result['loop_s'])} in "
            "end_run (flush + status).")
    for m in (results.get(("w34", "keel")), results.get(("w34", "mlflow"))):
        if m is not None and m.ok and m.result:
            table.notes.append(
                f"4 on {m.server} server: searches took "
                f"{', '.join(fmt_seconds(t) for t in m.result['search_times_s'])}; "
                f"{m.result['returned']} runs returned (digest {m.result['digest']}).")
    return table


def _concurrent_elapsed(c: ConcurrentResult) -> float:
    return (max(x["end_epoch"] for x in c.clients) - min(x["start_epoch"] for x in c.clients))


def concurrent_table(concurrent: list[ConcurrentResult], sizes: Sizes) -> Table:
    table = Table(
        f"6. {sizes.w6_clients} concurrent keel clients, {fmt_count(sizes.w6_points)} "
        f"log_metric each, keel server --workers {CONCURRENT_WORKERS}",
        ["Store", "Procs", "Points stored", "Elapsed", "Total", "Client wall min/med/max",
         "log_metric p50/p99/max", "end_run med/max", "Server CPU", "Server RSS"],
        right_align={1, 2, 3, 4, 5, 6, 7, 8, 9})
    for c in concurrent:
        procs = str(len(c.stats.processes)) if c.stats else ""
        rss = f"{c.stats.rss_total:.0f} MiB" if c.stats and c.stats.rss_total else "n/a"
        if c.skipped:
            table.add(c.store, "", f"skipped: {c.skipped}", "", "", "", "", "", "", "")
            continue
        if c.error or not c.verified:
            table.add(c.store, procs, f"FAILED: {c.error}", "", "", "", "", "", "", rss)
            continue
        total = sizes.w6_clients * sizes.w6_points
        elapsed = _concurrent_elapsed(c)
        walls = sorted(x["wall_s"] for x in c.clients)
        p50 = statistics.median(x["call_s"]["p50"] for x in c.clients)
        p99 = max(x["call_s"]["p99"] for x in c.clients)
        worst = max(x["call_s"]["max"] for x in c.clients)
        ends = [x["end_run_s"] for x in c.clients]

        def us(s: float) -> str:
            return f"{s * 1e6:.0f} us" if s < 1e-3 else fmt_seconds(s)

        table.add(c.store, procs, f"{fmt_count(c.verified['ops'])} of {fmt_count(total)}",
                  fmt_seconds(elapsed), fmt_rate(total / elapsed, "points"),
                  "/".join(fmt_seconds(w) for w in (walls[0], statistics.median(walls),
                                                    walls[-1])),
                  "/".join(us(s) for s in (p50, p99, worst)),
                  f"{fmt_seconds(statistics.median(ends))}/{fmt_seconds(max(ends))}",
                  fmt_seconds(c.stats.cpu_s) if c.stats else "n/a", rss)
    table.notes.extend([
        f"{sizes.w6_clients} child processes (keel's client, default buffered logging, no "
        "environment capture) each connect and create their run, then start together on a "
        "signal; each logs its points into its own run and ends it. Elapsed: first start to last "
        "end_run; Total: all points / elapsed.",
        "log_metric latency: per call in each client (buffered, so mostly in-process; the "
        "median of the clients' p50, the worst p99 and max); end_run flushes what is left and "
        "waits for the server.",
        "Afterwards a separate child reads every run back: exactly its points, steps 0..n-1, "
        "each client's own values, status FINISHED, and the experiment holds exactly these runs.",
        "SQLite: the embedded default (KEEL_HOME); PostgreSQL: KEEL_DATABASE_URL with a fresh "
        "schema on the search path, dropped afterwards. Procs: processes the keel server ran "
        "(counted from /proc). Server RSS: VmHWM summed over them.",
    ])
    for c in concurrent:
        if c.stats and not c.skipped and len(c.stats.processes) < CONCURRENT_WORKERS:
            table.notes.append(
                f"WARNING ({c.store}): keel server was started with --workers "
                f"{CONCURRENT_WORKERS} but ran {len(c.stats.processes)} process(es).")
    return table


def process_table(results: dict[tuple[str, str], Measurement],
                  concurrent: list[ConcurrentResult]) -> Table:
    """Peak RSS (VmHWM) of each process of each server."""
    table = Table("Server processes: peak RSS (VmHWM) of each, read before the server stopped",
                  ["Workload", "Server", "Workers", "Processes (peak RSS each)", "Total"],
                  right_align={2, 4})
    names = {"w1": "1", "w2": "2", "w34": "3+4", "w5": "5"}
    entries: list[tuple[str, str, int, ServerStats | None]] = [
        (names[m.workload], m.server, SEQUENTIAL_WORKERS, m.stats) for m in results.values()
    ]
    entries += [(f"6, {c.store}", "keel", CONCURRENT_WORKERS, c.stats) for c in concurrent
                if not c.skipped]
    for workload, kind, workers, stats in entries:
        if stats is None:
            table.add(workload, f"{kind} server", workers, "n/a", "")
            continue
        procs = " + ".join(
            f"{name} {rss:.0f} MiB" if rss is not None else f"{name} ?"
            for _, name, rss in stats.processes
        )
        total = stats.rss_total
        table.add(workload, f"{kind} server", workers, procs,
                  f"{total:.0f} MiB" if total is not None else "n/a")
    table.notes.append(
        "Workers: the --workers value both servers were started with (uvicorn for both).")
    return table


def cross_check(results: dict[tuple[str, str], Measurement]) -> list[str]:
    keel, ml = results.get(("w34", "keel")), results.get(("w34", "mlflow"))
    if not (keel and ml and keel.ok and ml.ok and keel.result and ml.result):
        return []
    if (keel.result["returned"], keel.result["digest"]) != (ml.result["returned"],
                                                             ml.result["digest"]):
        return [f"search results differ: keel server returned {keel.result['returned']} runs "
                f"(digest {keel.result['digest']}), mlflow server {ml.result['returned']} "
                f"(digest {ml.result['digest']})"]
    return []


# =============================================================================================
# main
# =============================================================================================

WORKLOADS = ["w1", "w2", "w3", "w4", "w5", "w6"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller workloads 1-4 and 6 (a few minutes)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the tables as Markdown")
    parser.add_argument("--only", choices=WORKLOADS, action="append",
                        help="run only these workloads (repeatable; 3 and 4 run together)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="PostgreSQL database for workload 6 (a fresh schema is created "
                        f"and dropped); default {DEFAULT_POSTGRES_URL}")
    parser.add_argument("--no-postgres", action="store_true",
                        help="skip workload 6 on PostgreSQL")
    parser.add_argument("--mlflow-job-runner", action="store_true",
                        help="start mlflow server with its background job runner (its default; "
                        "off here, see MLFLOW_NO_JOB_RUNNER_ENV)")
    parser.add_argument("--keep-work", action="store_true",
                        help="keep the servers' stores and logs under bench/.work/")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child)
    # A SIGTERM to the orchestrator unwinds through the try/finally blocks that stop servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    sizes = QUICK if args.quick else FULL
    only = set(args.only or WORKLOADS)
    if only & {"w3", "w4"}:
        only |= {"w3", "w4"}
    peer = ensure_peer_venv("mlflow", [MLFLOW_REQUIREMENT], dist="mlflow", log=progress)
    info = machine_info()
    progress(f"machine: {info['cpus']} CPUs, {info['cpu']}, {info['python']}; "
             f"MLflow {peer.version}")
    results: dict[tuple[str, str], Measurement] = {}
    concurrent: list[ConcurrentResult] = []
    with work_session(args.keep_work) as new_dir:
        ctx = Context(sizes, Path(__file__).resolve(), peer.python, peer.path / "bin" / "mlflow",
                      new_dir, timeout=900 if args.quick else 3600,
                      mlflow_job_runner=args.mlflow_job_runner)
        groups = [(w, k) for w in ("w1", "w2", "w34") for k in ("keel", "mlflow")
                  if (w == "w34" and "w3" in only) or w in only]
        if "w5" in only:
            groups.append(("w5", "keel"))
        steps = len(groups) + (2 if "w6" in only else 0)
        for i, (workload, kind) in enumerate(groups, 1):
            names = {"w34": "3+4 create runs + search_runs", "w5": "5 keel.log_metric"}
            progress(f"[{i}/{steps}] workload {names.get(workload, workload[1])}: "
                     f"{'keel' if workload == 'w5' else 'MLflow'} client -> {kind} server ...")
            results[(workload, kind)] = run_sequential(ctx, workload, kind)
        if "w6" in only:
            progress(f"[{len(groups) + 1}/{steps}] workload 6: {sizes.w6_clients} concurrent "
                     "keel clients -> keel server (SQLite) ...")
            concurrent.append(run_concurrent(ctx, "SQLite", None))
            progress(f"[{steps}/{steps}] workload 6: {sizes.w6_clients} concurrent keel clients "
                     "-> keel server (PostgreSQL) ...")
            if args.no_postgres:
                concurrent.append(ConcurrentResult("PostgreSQL", skipped="--no-postgres"))
            else:
                try:
                    with postgres_schema(args.postgres_url) as pg_url:
                        concurrent.append(run_concurrent(ctx, "PostgreSQL", pg_url))
                except ImportError as exc:
                    concurrent.append(ConcurrentResult("PostgreSQL",
                                                       skipped=f"psycopg missing ({exc})"))
                except Exception as exc:  # psycopg.OperationalError: no server to talk to
                    reason = str(exc).strip().splitlines()[0][:100] if str(exc) else repr(exc)
                    progress(f"    PostgreSQL not usable: {reason}")
                    concurrent.append(ConcurrentResult("PostgreSQL",
                                                       skipped=f"not reachable ({reason})"))

    problems = [f"{m.workload} {m.server} server: {m.error}" for m in results.values() if m.error]
    problems += [f"w6 {c.store}: {c.error}" for c in concurrent if c.error]
    problems += cross_check(results)
    tables = [summary_table(results, concurrent, sizes, args.quick, peer.version,
                            args.mlflow_job_runner)]
    if results:
        tables.append(detail_table(results, sizes))
    if concurrent:
        tables.append(concurrent_table(concurrent, sizes))
    tables.append(process_table(results, concurrent))
    header = (f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['python']}, {info['os']}. "
              f"MLflow {peer.version}.")
    print()
    print(header)
    print()
    for table in tables:
        table.print()
    if args.markdown:
        command = ["python bench/bench_server.py"]
        command += ["--quick"] if args.quick else []
        command += [f"--only {w}" for w in args.only or []]
        Path(args.markdown).write_text(f"{header} Command: `{' '.join(command)}`.\n\n"
                                       + "\n".join(t.to_markdown() for t in tables))
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
