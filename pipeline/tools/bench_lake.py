"""`make bench-lake`: lake mode against the embedded mode on the same synthetic flows, side by side in
one run (the seeds of `make bench`, bench/<N>/seeds):
  (1) a full refresh, embedded (one DuckDB file, Dagster in SQLite);
  (2) a full refresh, lake mode (DuckLake in a local PostgreSQL, Dagster in the same PostgreSQL);
  (3) four month refreshes, embedded: one after another, as its one-writer pool runs them;
  (4) the same four month refreshes, lake mode: four concurrent runs.
Each step's wall time and the peak RSS of its largest process; the lake's step (4) also counts the
commit conflicts its runs retried and how many of them published. Results go to bench/<N>/lake.json.

    python -m pipeline.tools.bench_lake --rows 1000000
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pipeline.storage import local_postgres
from pipeline.tools.bench import FIRST_MONTH, REPO, bench_folder, prepare

MONTHS = ("2025-08", "2025-09", "2025-10", "2025-11")


def measure_all(commands: list[list[str]], env: dict, logs: list[Path]) -> tuple[float, float]:
    """Run commands at once; the wall seconds until the last ends, and the largest peak RSS (MB) of any."""
    started = time.perf_counter()
    outputs = [open(log, "w") for log in logs]
    processes = {subprocess.Popen(c, env=env, stdout=out, stderr=subprocess.STDOUT).pid: c for c, out in zip(commands, outputs)}
    peak = 0.0
    while processes:
        pid, status, usage = os.wait4(-1, 0)
        command = processes.pop(pid, None)
        if command is None:
            continue
        peak = max(peak, usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(command)} (see {logs})")
    for out in outputs:
        out.close()
    return time.perf_counter() - started, peak


def run(rows: int, folder: Path) -> list[dict]:
    seeds = prepare(rows, folder)
    work = folder / "lake-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    work.chmod(0o755)  # the server's user must reach the PostgreSQL folder inside
    pg_env = local_postgres.up(work / "pg")
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    common = {
        **os.environ,
        "DETOUR_SEEDS_DIR": str(seeds),
        "DETOUR_FIRST_MONTH": FIRST_MONTH,
        "DETOUR_MAX_QUARANTINED_VALUE_SHARE": "0.1",  # as make bench: see pipeline/tools/bench.py
        "DETOUR_MAX_QUARANTINED_ROW_SHARE": "0.1",
    }
    embedded = {**common, "DETOUR_WAREHOUSE": str(work / "embedded" / "detour.duckdb"), "DAGSTER_HOME": str(home)}
    lake = {**common, **pg_env, "DETOUR_WAREHOUSE": str(work / "lake" / "detour.duckdb")}
    detour_run = str(Path(sys.executable).parent / "detour-run")
    results = []
    try:
        for step, env in (("(1) full refresh, embedded", embedded), ("(2) full refresh, lake", lake)):
            seconds, peak = measure_all([[detour_run]], env, [work / f"{step[1]}.log"])
            results.append({"step": step, "runs": 1, "seconds": seconds, "peak_mb": peak})
        started, peak = time.perf_counter(), 0.0
        for month in MONTHS:
            _, month_peak = measure_all([[detour_run, "--months", month]], embedded, [work / f"3-{month}.log"])
            peak = max(peak, month_peak)
        results.append({"step": "(3) 4 months, embedded, one after another", "runs": 4,
                        "seconds": time.perf_counter() - started, "peak_mb": peak})
        logs = [work / f"4-{month}.log" for month in MONTHS]
        seconds, peak = measure_all([[detour_run, "--months", month] for month in MONTHS], lake, logs)
        texts = [log.read_text() for log in logs]
        results.append({"step": "(4) 4 months, lake, concurrent", "runs": 4, "seconds": seconds, "peak_mb": peak,
                        "conflicts_retried": sum(t.count("DuckLake commit conflict") for t in texts),
                        # a run superseded by a later writer publishes nothing; the last one publishes all four
                        "runs_published": sum("Nothing published by this run" not in t for t in texts)})
    finally:
        local_postgres.down(work / "pg")
    (folder / "lake.json").write_text(json.dumps(results, indent=2))
    return results


def main() -> None:
    results = run(*bench_folder(__doc__.splitlines()[0]))
    print(f"| {'step':<42} | {'seconds':>8} | {'peak MB':>8} |\n|{'-' * 44}|{'-' * 9}:|{'-' * 9}:|")
    for r in results:
        print(f"| {r['step']:<42} | {r['seconds']:>8.1f} | {r['peak_mb']:>8,.0f} |")
    full_embedded, full_lake, months_embedded, months_lake = (r["seconds"] for r in results)
    print(f"\nfull refresh, lake / embedded: {full_lake / full_embedded:.2f}")
    print(f"4 month refreshes, lake concurrent / embedded one after another: {months_lake / months_embedded:.2f}")
    print(f"commit conflicts retried by the 4 concurrent runs: {results[3]['conflicts_retried']}")
    print(f"of the 4 concurrent runs, runs that published: {results[3]['runs_published']} (at least 1)")


if __name__ == "__main__":
    main()
