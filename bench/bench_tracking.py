"""Tracking benchmark: keel vs MLflow on the same machine, in one run.

    python bench/bench_tracking.py            # full size (several minutes; MLflow is the slow part)
    python bench/bench_tracking.py --quick    # smaller MLflow workloads, about a minute
    python bench/bench_tracking.py --markdown /tmp/tracking.md   # also write the tables

Workloads (each tool and store runs each one in its own fresh child process and directory):

1. ``log_metric``: 10,000 calls in one run, timed until ``end_run`` returns (keel's buffered
   writes are flushed by then). keel on its embedded default (``.keel/``: SQLite + local files)
   vs MLflow on SQLite and on its file store.
2. ``log_batch``: 100,000 metric points in batches of 1,000 (MLflow's per-call limit), timed
   until everything is stored (keel: ``flush()``).
3. ``search_runs`` over an experiment of 5,000 runs (params ``lr``, ``depth``; metrics ``acc``,
   ``loss``): ``metrics.acc > 0.5 and params.depth = '4'`` ordered by ``metrics.acc DESC``,
   max_results 1000, median of 5. Both tools must return the same runs in the same order.
4. Peak RSS of every child (``ru_maxrss``).

MLflow is not a keel dependency: it is installed into ``bench/.peers/mlflow`` on first use. The
same file is the child program (``--child SPEC``); the child side imports only the standard
library and the tool it measures, so it runs in either virtual environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import (
    MLFLOW_ENV,
    MLFLOW_REQUIREMENT,
    NO_NETWORK_ENV,
    REPO_ROOT,
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

SEARCH_FILTER = "metrics.acc > 0.5 and params.depth = '4'"
SEARCH_ORDER = "metrics.acc DESC"
SEARCH_MAX_RESULTS = 1000
SEARCH_SEED = 20240501
BATCH_KEYS = 10


# =============================================================================================
# Child side: runs inside keel's venv or MLflow's peer venv. Tool imports stay in functions.
# =============================================================================================


def _now_ms() -> int:
    return int(time.time() * 1000)


def _metric_value(i: int) -> float:
    return 1.0 / (i + 1)


def _search_rows(n: int) -> list[tuple[str, float, int, float, float]]:
    """The same ``(name, lr, depth, acc, loss)`` rows for every tool."""
    rng = random.Random(SEARCH_SEED)
    return [
        (f"run-{i:05d}", rng.choice([0.001, 0.01, 0.1]), rng.choice([2, 4, 6, 8]),
         rng.random(), rng.random())
        for i in range(n)
    ]


def _expected_search(rows: list[tuple[str, float, int, float, float]]) -> list[str]:
    hits = [r for r in rows if r[3] > 0.5 and r[2] == 4]
    hits.sort(key=lambda r: r[3], reverse=True)
    return [r[0] for r in hits[:SEARCH_MAX_RESULTS]]


def _digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def _check_history(points: list[tuple[int, float]], n: int, what: str,
                   value: Callable[[int], float]) -> None:
    check(len(points) == n, f"{what}: logged {n:,} points, the store returned {len(points):,}")
    points = sorted(points)
    check([s for s, _ in points] == list(range(n)), f"{what}: steps differ from 0..{n - 1}")
    bad = [s for s, v in points if v != value(s)]
    check(not bad, f"{what}: {len(bad)} values differ from what was logged (first step {bad[:1]})")


# -- keel --------------------------------------------------------------------------------------


def _summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Median of each timing over the repetitions, plus every wall time."""
    out: dict[str, Any] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    out["walls_s"] = [s["wall_s"] for s in samples]
    out["repeats"] = len(samples)
    return out


def keel_log_metric(spec: dict[str, Any]) -> dict[str, Any]:
    import keel

    n = spec["n"]
    with Stopwatch() as setup:
        client = keel.connect()  # the embedded default: .keel/ in the (fresh) working directory
    samples = []
    for rep in range(spec["repeats"]):
        with Stopwatch() as create:
            run = keel.start_run("bench-log-metric")  # includes keel's reproducibility capture
        with Stopwatch() as sw:
            t0 = time.perf_counter()
            for i in range(n):
                keel.log_metric("loss", _metric_value(i), step=i)
            loop_s = time.perf_counter() - t0
            keel.end_run()
        history = client.runs.get_metric_history(run.run_id, "loss")
        _check_history([(m.step, m.value) for m in history], n, f"keel log_metric (run {rep})",
                       _metric_value)
        status = client.runs.get_run(run.run_id).status.value
        check(status == "FINISHED", f"keel run status is {status}, expected FINISHED")
        samples.append({"loop_s": loop_s, "create_run_s": create.wall, **sw.as_dict()})
    keel.disconnect()
    return {"ops": n, "setup_s": setup.wall, **_summary(samples)}


def keel_log_batch(spec: dict[str, Any]) -> dict[str, Any]:
    import keel
    from keel.tracking import MetricRecord

    n, batch = spec["n"], spec["batch"]
    keys = [f"m{k}" for k in range(BATCH_KEYS)]
    client = keel.connect()
    samples = []
    for _ in range(spec["repeats"]):
        run_id = keel.start_run("bench-log-batch").run_id
        with Stopwatch() as sw:
            for start in range(0, n, batch):
                ts = _now_ms()
                records = [
                    MetricRecord(run_id, keys[i % BATCH_KEYS], _metric_value(i // BATCH_KEYS),
                                 i // BATCH_KEYS, ts)
                    for i in range(start, min(start + batch, n))
                ]
                client.runs.log_batch(records)
            keel.flush()
        keel.end_run()
        _check_keel_keys(client, run_id, keys, n)
        samples.append(sw.as_dict())
    keel.disconnect()
    return {"ops": n, **_summary(samples)}


def keel_log_metrics(spec: dict[str, Any]) -> dict[str, Any]:
    """The idiomatic training-loop path: ``keel.log_metrics({10 keys}, step=s)``."""
    import keel

    n = spec["n"]
    keys = [f"m{k}" for k in range(BATCH_KEYS)]
    client = keel.connect()
    samples = []
    for _ in range(spec["repeats"]):
        run_id = keel.start_run("bench-log-metrics").run_id
        with Stopwatch() as sw:
            for step in range(n // BATCH_KEYS):
                keel.log_metrics(dict.fromkeys(keys, _metric_value(step)), step=step)
            keel.flush()
        keel.end_run()
        _check_keel_keys(client, run_id, keys, n)
        samples.append(sw.as_dict())
    keel.disconnect()
    return {"ops": n, **_summary(samples)}


def _check_keel_keys(client: Any, run_id: str, keys: list[str], n: int) -> None:
    stored = 0
    for key in keys:
        history = client.runs.get_metric_history(run_id, key)
        _check_history([(m.step, m.value) for m in history], n // BATCH_KEYS,
                       f"keel metric {key}", _metric_value)
        stored += len(history)
    check(stored == n, f"keel stored {stored:,} points of {n:,}")


def keel_search(spec: dict[str, Any]) -> dict[str, Any]:
    import keel

    n, repeats = spec["n"], spec["searches"]
    rows = _search_rows(n)
    expected = _expected_search(rows)
    client = keel.connect()
    exp = client.experiments.create_experiment("bench-search")
    with Stopwatch() as populate:
        for name, lr, depth, acc, loss in rows:
            # Keel.create_run(capture=False) is this plus nothing: no environment capture for
            # bulk-created runs.
            run = client.runs.create_run(exp, name=name)
            client.runs.log_params(run.run_id, {"lr": lr, "depth": depth})
            client.runs.log_metrics(run.run_id, {"acc": acc, "loss": loss}, step=0)
        client.flush()
    times, cpus, names = [], [], []
    for _ in range(repeats):
        with Stopwatch() as sw:
            page = keel.search_runs(exp.experiment_id, filter=SEARCH_FILTER,
                                    order_by=[SEARCH_ORDER], max_results=SEARCH_MAX_RESULTS)
        times.append(sw.wall)
        cpus.append(sw.cpu)
        names = [r.name for r in page.items]
        check(names == expected, f"keel search returned {len(names)} runs, expected "
              f"{len(expected)} (or a different order)")
    top = page.items[0]
    check(str(top.param_values["depth"]) == "4" and top.metric_values["acc"] > 0.5,
          "keel search: the top run does not match the filter")
    keel.disconnect()
    return _search_result(n, times, cpus, names, populate)


def _search_result(n: int, times: list[float], cpus: list[float], names: list[str],
                   populate: Stopwatch) -> dict[str, Any]:
    return {"ops": 1, "runs": n, "returned": len(names), "digest": _digest(names),
            "times_s": times, "wall_s": statistics.median(times), "cpu_s": statistics.median(cpus),
            "populate_wall_s": populate.wall, "populate_cpu_s": populate.cpu}


# -- MLflow ------------------------------------------------------------------------------------


def _mlflow_uri(store: str) -> str:
    cwd = Path.cwd().resolve()
    if store == "sqlite":
        return f"sqlite:///{cwd / 'mlflow.db'}"
    return (cwd / "mlruns").as_uri()


def _mlflow_open(spec: dict[str, Any], experiment: str) -> tuple[Any, str | None]:
    """Point MLflow at the child's store and create the experiment. Returns (experiment, None),
    or (None, reason) when MLflow refuses the file store."""
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(_mlflow_uri(spec["store"]))
    try:
        return mlflow.set_experiment(experiment), None
    except MlflowException as exc:
        if spec["store"] != "file":
            raise
        reason = str(exc).split(". ")[0].strip()
        return None, reason


def mlflow_log_metric(spec: dict[str, Any]) -> dict[str, Any]:
    import mlflow

    n = spec["n"]
    with Stopwatch() as setup:
        exp, refused = _mlflow_open(spec, "bench-log-metric")
    if refused:
        return {"refused": refused}
    client = mlflow.MlflowClient()
    samples = []
    for rep in range(spec["repeats"]):
        with Stopwatch() as create:
            run = mlflow.start_run(experiment_id=exp.experiment_id)
        with Stopwatch() as sw:
            t0 = time.perf_counter()
            for i in range(n):
                mlflow.log_metric("loss", _metric_value(i), step=i)
            loop_s = time.perf_counter() - t0
            mlflow.end_run()
        history = client.get_metric_history(run.info.run_id, "loss")
        _check_history([(m.step, m.value) for m in history], n,
                       f"MLflow log_metric (run {rep})", _metric_value)
        status = client.get_run(run.info.run_id).info.status
        check(status == "FINISHED", f"MLflow run status is {status}, expected FINISHED")
        samples.append({"loop_s": loop_s, "create_run_s": create.wall, **sw.as_dict()})
    return {"ops": n, "setup_s": setup.wall, **_summary(samples)}


def mlflow_log_batch(spec: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric

    n, batch = spec["n"], spec["batch"]
    keys = [f"m{k}" for k in range(BATCH_KEYS)]
    exp, _ = _mlflow_open(spec, "bench-log-batch")
    client = mlflow.MlflowClient()
    samples = []
    for _ in range(spec["repeats"]):
        run_id = mlflow.start_run(experiment_id=exp.experiment_id).info.run_id
        with Stopwatch() as sw:
            for start in range(0, n, batch):
                ts = _now_ms()
                metrics = [
                    Metric(keys[i % BATCH_KEYS], _metric_value(i // BATCH_KEYS), ts,
                           i // BATCH_KEYS)
                    for i in range(start, min(start + batch, n))
                ]
                client.log_batch(run_id, metrics=metrics)
        mlflow.end_run()
        stored = 0
        for key in keys:
            history = client.get_metric_history(run_id, key)
            _check_history([(m.step, m.value) for m in history], n // BATCH_KEYS,
                           f"MLflow metric {key}", _metric_value)
            stored += len(history)
        check(stored == n, f"MLflow stored {stored:,} points of {n:,}")
        samples.append(sw.as_dict())
    return {"ops": n, **_summary(samples)}


def mlflow_search(spec: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric, Param

    n, repeats = spec["n"], spec["searches"]
    rows = _search_rows(n)
    expected = _expected_search(rows)
    exp, _ = _mlflow_open(spec, "bench-search")
    client = mlflow.MlflowClient()
    with Stopwatch() as populate:
        for name, lr, depth, acc, loss in rows:
            run = client.create_run(exp.experiment_id, run_name=name)
            ts = _now_ms()
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("acc", acc, ts, 0), Metric("loss", loss, ts, 0)],
                params=[Param("lr", str(lr)), Param("depth", str(depth))],
            )
    times, cpus, names = [], [], []
    for _ in range(repeats):
        with Stopwatch() as sw:
            runs = client.search_runs([exp.experiment_id], filter_string=SEARCH_FILTER,
                                      order_by=[SEARCH_ORDER], max_results=SEARCH_MAX_RESULTS)
        times.append(sw.wall)
        cpus.append(sw.cpu)
        names = [r.info.run_name for r in runs]
        check(names == expected, f"MLflow search returned {len(names)} runs, expected "
              f"{len(expected)} (or a different order)")
    top = runs[0]
    check(top.data.params["depth"] == "4" and top.data.metrics["acc"] > 0.5,
          "MLflow search: the top run does not match the filter")
    return _search_result(n, times, cpus, names, populate)


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "keel:log_metric": keel_log_metric,
    "keel:log_batch": keel_log_batch,
    "keel:log_metrics": keel_log_metrics,
    "keel:search": keel_search,
    "mlflow:log_metric": mlflow_log_metric,
    "mlflow:log_batch": mlflow_log_batch,
    "mlflow:search": mlflow_search,
}


def child_main(raw_spec: str) -> int:
    return dispatch_child(CHILDREN, raw_spec, "tool")


# =============================================================================================
# Orchestrator side
# =============================================================================================


@dataclass
class Job:
    workload: str  # "w1" | "w2" | "w3"
    label: str  # row label in the table
    tool: str  # "keel" | "mlflow"
    spec: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    primary: bool = False  # the keel row the targets are measured on
    baseline: bool = False  # the MLflow row the targets are measured against
    full_ops: int | None = None  # when the child did fewer ops than the workload: extrapolate
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def refused(self) -> str | None:
        return self.result.get("refused") if self.result else None

    def wall(self, key: str = "wall_s") -> float:
        """Wall time, extrapolated linearly to ``full_ops`` when the child did fewer ops."""
        assert self.result is not None
        wall = float(self.result[key])
        if self.full_ops:
            wall *= self.full_ops / self.result["ops"]
        return wall


@dataclass(frozen=True)
class Sizes:
    w1_keel: int
    w1_mlflow: int
    w2: int
    w3_runs: int
    repeats: int  # fresh runs per child for workloads 1 and 2 (the median is reported)
    w2_mlflow_repeats: int
    searches: int = 5  # searches per child for workload 3 (the median is reported)
    batch: int = 1000


FULL = Sizes(w1_keel=10_000, w1_mlflow=10_000, w2=100_000, w3_runs=5_000, repeats=3,
             w2_mlflow_repeats=3)
QUICK = Sizes(w1_keel=10_000, w1_mlflow=1_000, w2=100_000, w3_runs=1_000, repeats=3,
              w2_mlflow_repeats=1)


def plan(sizes: Sizes) -> list[Job]:
    w1_extra = sizes.w1_keel if sizes.w1_mlflow != sizes.w1_keel else None
    optin = {"MLFLOW_ALLOW_FILE_STORE": "true"}
    w1_keel = {"workload": "log_metric", "n": sizes.w1_keel, "repeats": sizes.repeats}
    w1_mlflow = {"workload": "log_metric", "n": sizes.w1_mlflow, "repeats": sizes.repeats}
    w2 = {"n": sizes.w2, "batch": sizes.batch, "repeats": sizes.repeats}
    w3 = {"workload": "search", "n": sizes.w3_runs, "searches": sizes.searches}
    return [
        Job("w1", "keel, default store (.keel/)", "keel", w1_keel, primary=True),
        Job("w1", "MLflow, sqlite:///", "mlflow", {**w1_mlflow, "store": "sqlite"},
            baseline=True, full_ops=w1_extra),
        Job("w1", "MLflow, file store", "mlflow", {**w1_mlflow, "store": "file"},
            full_ops=w1_extra),
        Job("w1", "MLflow, file store, ALLOW_FILE_STORE", "mlflow",
            {**w1_mlflow, "store": "file"}, env=optin, full_ops=w1_extra),
        Job("w2", "keel, runs.log_batch(1,000)", "keel", {**w2, "workload": "log_batch"},
            primary=True),
        Job("w2", "keel, log_metrics per step", "keel", {**w2, "workload": "log_metrics"}),
        Job("w2", "MLflow, sqlite:///, log_batch(1,000)", "mlflow",
            {**w2, "workload": "log_batch", "store": "sqlite",
             "repeats": sizes.w2_mlflow_repeats}, baseline=True),
        Job("w3", "keel, default store (.keel/)", "keel", w3, primary=True),
        Job("w3", "MLflow, sqlite:///", "mlflow", {**w3, "store": "sqlite"}, baseline=True),
    ]


def run_jobs(jobs: list[Job], mlflow_python: Path, timeout: float, keep_work: bool) -> None:
    script = Path(__file__).resolve()
    keel_env = child_env(set_vars=NO_NETWORK_ENV, drop_prefixes=("KEEL_", "MLFLOW_"),
                         pythonpath=[REPO_ROOT])
    with work_session(keep_work) as new_dir:
        for i, job in enumerate(jobs, 1):
            spec = {"tool": job.tool, **job.spec}
            if job.tool == "keel":
                python, env = Path(sys.executable), keel_env
            else:
                python = mlflow_python
                env = child_env(set_vars={**MLFLOW_ENV, **NO_NETWORK_ENV, **job.env},
                                drop_prefixes=("KEEL_", "MLFLOW_"))
            name = f"{job.workload} {job.label}"
            progress(f"[{i}/{len(jobs)}] {name} ...")
            started = time.perf_counter()
            try:
                job.result = run_child(
                    [str(python), str(script), "--child", json.dumps(spec)],
                    label=name, cwd=new_dir(f"{job.workload}-{job.tool}"), env=env,
                    timeout=timeout,
                )
            except ChildFailed as exc:
                job.error = exc.reason
                progress(f"    FAILED: {exc}")
                continue
            took = time.perf_counter() - started
            if job.refused:
                progress(f"    refused: {job.refused}")
            else:
                progress(f"    done in {took:.1f} s (child process, all included)")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- tables ------------------------------------------------------------------------------------

COLUMNS = ["#", "Tool / store", "Work", "Wall", "CPU", "Throughput", "Peak RSS",
           "keel faster by"]
RIGHT = {2, 3, 4, 5, 6, 7}


def _primary(jobs: list[Job], workload: str) -> Job | None:
    return next((j for j in jobs if j.workload == workload and j.primary), None)


def _baseline(jobs: list[Job], workload: str) -> Job | None:
    return next((j for j in jobs if j.workload == workload and j.baseline), None)


def _ok(job: Job | None) -> bool:
    return job is not None and job.result is not None and not job.refused


def _ratio(slow: Job | None, fast: Job | None, key: str = "wall_s") -> float | None:
    if not (_ok(slow) and _ok(fast)):
        return None
    assert slow is not None and fast is not None
    return slow.wall(key) / fast.wall(key)


def _mib(job: Job) -> str:
    assert job.result is not None
    return f"{job.result['peak_rss_mib']:.0f} MiB"


def _short_reason(reason: str) -> str:
    """'The filesystem tracking backend (e.g., './mlruns') is in maintenance mode and will not
    receive further updates' -> 'The filesystem tracking backend is in maintenance mode'."""
    text = re.sub(r"\s*\([^)]*\)", "", reason)
    return text.split(" and ")[0].split("; ")[0][:80]


def workload_legend(sizes: Sizes) -> list[str]:
    w2_reps = (f"median of {sizes.repeats} runs" if sizes.w2_mlflow_repeats == sizes.repeats
               else f"median of {sizes.repeats} runs for keel, {sizes.w2_mlflow_repeats} for "
               "MLflow")
    return [
        f"1 = {fmt_count(sizes.w1_keel)} log_metric calls (one key, distinct steps) in one run, "
        "timed from the first call until end_run returns (keel's buffered points are written "
        f"by then); median of {sizes.repeats} fresh runs per child.",
        f"2 = {fmt_count(sizes.w2)} metric points ({BATCH_KEYS} keys) in batches of "
        f"{fmt_count(sizes.batch)}, timed until all are stored (keel: flush() returned; "
        f"MLflow: the last synchronous log_batch returned); {w2_reps}.",
        f"3 = search_runs over {fmt_count(sizes.w3_runs)} runs: {SEARCH_FILTER!r} ordered by "
        f"{SEARCH_ORDER!r}, max_results {SEARCH_MAX_RESULTS}; median of {sizes.searches} "
        "searches (both tools must return the same runs in the same order).",
        f"3b = populating those {fmt_count(sizes.w3_runs)} runs (create run + params + metrics, "
        "one run at a time; keel without environment capture, MLflow create_run + log_batch). "
        "Not a target.",
        "Every child checks what it logged came back (history length, steps, values); a "
        "mismatch fails the benchmark.",
    ]


def results_table(jobs: list[Job], sizes: Sizes, quick: bool) -> Table:
    table = Table("keel vs MLflow: experiment tracking", COLUMNS, right_align=RIGHT)
    extrapolated = False
    refusals: list[str] = []
    for job in jobs:
        num = job.workload[1]
        if job.error is not None or job.result is None:
            table.add(num, job.label, "", "FAILED", "", "", "", job.error or "")
            continue
        if job.refused:
            table.add(num, job.label, "", f"refused: {_short_reason(job.refused)}",
                      "", "", "", "")
            refusals.append(f"{job.label} refused: {job.refused}.")
            continue
        res = job.result
        ops = res["ops"]
        work = f"{fmt_count(ops)} metrics" if job.workload == "w2" else f"{fmt_count(ops)} calls"
        wall = fmt_seconds(job.wall())
        cpu = fmt_seconds(res["cpu_s"] * (job.full_ops / ops if job.full_ops else 1))
        if job.full_ops:
            extrapolated = True
            work += "*"
            wall += "*"
            cpu += "*"
        if job.workload == "w3":
            work = f"{res['returned']} of {fmt_count(res['runs'])} runs"
            throughput = fmt_rate(1 / res["wall_s"], "searches")
        else:
            throughput = fmt_rate(ops / res["wall_s"], "calls" if job.workload == "w1"
                                  else "metrics")
        primary = _primary(jobs, job.workload)
        if job.tool == "mlflow":
            r = _ratio(job, primary)
            faster = fmt_ratio(r) if r is not None else ""
        elif not job.primary:
            r = _ratio(_baseline(jobs, job.workload), job)
            faster = f"({fmt_ratio(r)} this path)" if r is not None else ""
        else:
            faster = ""
        table.add(num, job.label, work, wall, cpu, throughput, _mib(job), faster)
    keel3, ml3 = _primary(jobs, "w3"), _baseline(jobs, "w3")
    if _ok(keel3) and _ok(ml3):
        assert keel3 is not None and ml3 is not None and keel3.result and ml3.result
        r = ml3.result["populate_wall_s"] / keel3.result["populate_wall_s"]
        for job in (keel3, ml3):
            assert job.result is not None
            wall = job.result["populate_wall_s"]
            table.add("3b", job.label, f"{fmt_count(sizes.w3_runs)} runs", fmt_seconds(wall),
                      fmt_seconds(job.result["populate_cpu_s"]),
                      fmt_rate(sizes.w3_runs / wall, "runs"), "(in 3)",
                      fmt_ratio(r) if job is ml3 else "")
    table.notes.extend(workload_legend(sizes))
    if extrapolated:
        table.notes.append(
            f"* --quick: MLflow made {fmt_count(sizes.w1_mlflow)} log_metric calls; its time is "
            f"extrapolated linearly to {fmt_count(sizes.w1_keel)} (keel made all "
            f"{fmt_count(sizes.w1_keel)}); its peak RSS is that of the shorter run."
        )
    table.notes.extend(refusals)
    keel1, ml1 = _primary(jobs, "w1"), _baseline(jobs, "w1")
    if _ok(keel1):
        assert keel1 is not None and keel1.result is not None
        res = keel1.result
        table.notes.append(
            f"keel log_metric: {res['loop_s'] / res['ops'] * 1e6:.1f} us per call while logging, "
            f"then {fmt_seconds(res['wall_s'] - res['loop_s'])} in end_run (flush + status); "
            f"start_run, which includes environment capture, took "
            f"{fmt_seconds(res['create_run_s'])} (not timed)."
        )
    if _ok(ml1):
        assert ml1 is not None and ml1.result is not None
        res = ml1.result
        table.notes.append(
            f"MLflow-SQLite log_metric: {res['loop_s'] / res['ops'] * 1e3:.2f} ms per call; "
            f"start_run took {fmt_seconds(res['create_run_s'])} (not timed)."
        )
    table.notes.append(
        "Wall: perf_counter; CPU: process_time of the child (all its threads). Peak RSS: "
        "ru_maxrss of the child process (interpreter, imports and the whole workload)."
    )
    if quick:
        table.notes.append("Sizes: --quick.")
    return table


@dataclass
class Verdict:
    target: str
    measured: str
    met: bool | None


def verdicts(jobs: list[Job], sizes: Sizes) -> list[Verdict]:
    out = []
    for workload, target, name in (
        ("w1", 100, f"1. {fmt_count(sizes.w1_keel)} log_metric"),
        ("w2", 30, f"2. {fmt_count(sizes.w2)} metrics in batches"),
        ("w3", 10, f"3. search_runs over {fmt_count(sizes.w3_runs)} runs"),
    ):
        r = _ratio(_baseline(jobs, workload), _primary(jobs, workload))
        out.append(Verdict(
            f"{name}: keel >= {target}x faster than MLflow-SQLite",
            fmt_ratio(r) if r is not None else "not measured",
            None if r is None else r >= target,
        ))
    for workload in ("w1", "w2", "w3"):
        keel, ml = _primary(jobs, workload), _baseline(jobs, workload)
        if not (_ok(keel) and _ok(ml)):
            out.append(Verdict(f"peak RSS, workload {workload[1]}: keel <= MLflow-SQLite",
                               "not measured", None))
            continue
        assert keel is not None and ml is not None and keel.result and ml.result
        k, m = keel.result["peak_rss_mib"], ml.result["peak_rss_mib"]
        out.append(Verdict(
            f"peak RSS, workload {workload[1]}: keel <= MLflow-SQLite",
            f"{k:.0f} MiB vs {m:.0f} MiB", k <= m,
        ))
    return out


def verdict_table(items: list[Verdict], quick: bool) -> Table:
    table = Table("Targets", ["Target", "Measured", "Result"], right_align={1})
    for v in items:
        table.add(v.target, v.measured,
                  "not measured" if v.met is None else ("met" if v.met else "MISSED"))
    if quick:
        table.notes.append(
            "--quick: the targets are defined at full size (10,000 MLflow calls, 5,000 runs); "
            "fixed per-call costs weigh more in the smaller search, so judge targets on a full run."
        )
    return table


def cross_check(jobs: list[Job]) -> list[str]:
    """Both tools must have returned the same runs, in the same order, for the same search."""
    keel, ml = _primary(jobs, "w3"), _baseline(jobs, "w3")
    if not (_ok(keel) and _ok(ml)):
        return []
    assert keel is not None and ml is not None and keel.result and ml.result
    if (keel.result["returned"], keel.result["digest"]) != (
        ml.result["returned"], ml.result["digest"]
    ):
        return [f"search results differ: keel returned {keel.result['returned']} runs "
                f"(digest {keel.result['digest']}), MLflow {ml.result['returned']} "
                f"(digest {ml.result['digest']})"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller MLflow workloads (MLflow log_metric extrapolated)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the tables as Markdown")
    parser.add_argument("--only", choices=["w1", "w2", "w3"], action="append",
                        help="run only these workloads (repeatable)")
    parser.add_argument("--keep-work", action="store_true",
                        help="keep the children's stores under bench/.work/ for inspection")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child)

    sizes = QUICK if args.quick else FULL
    peer = ensure_peer_venv("mlflow", [MLFLOW_REQUIREMENT], dist="mlflow", log=progress)
    jobs = [j for j in plan(sizes) if not args.only or j.workload in args.only]
    info = machine_info()
    progress(f"machine: {info['cpus']} CPUs, {info['cpu']}, {info['python']}; "
             f"MLflow {peer.version}")
    run_jobs(jobs, peer.python, timeout=900 if args.quick else 1800, keep_work=args.keep_work)

    problems = [f"{j.workload} {j.label}: {j.error}" for j in jobs if j.error]
    problems += cross_check(jobs)
    tables = [
        results_table(jobs, sizes, args.quick),
        verdict_table(verdicts(jobs, sizes), args.quick),
    ]
    print()
    for table in tables:
        table.print()
    if args.markdown:
        command = ["python bench/bench_tracking.py"]
        command += ["--quick"] if args.quick else []
        command += [f"--only {w}" for w in args.only or []]
        header = (
            f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['python']}, {info['os']}. "
            f"MLflow {peer.version}. Command: `{' '.join(command)}`.\n\n"
        )
        Path(args.markdown).write_text(header + "\n".join(t.to_markdown() for t in tables))
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
