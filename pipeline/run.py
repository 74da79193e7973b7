"""`make run`: materialize every asset, all months, on the seeds in one Dagster run and print what
happened.

Uses the Dagster instance in DAGSTER_HOME (the Makefile points it at .dagster/, beside the
repository's dagster.yaml), so the run shows up in the UI's history."""

import argparse
import gc
import importlib
import os
import socket
import sys
import threading
import warnings
from contextlib import ExitStack
from pathlib import Path

import dagster as dg

from pipeline import settings
from pipeline.storage import lake
from pipeline.months import month_tags
from pipeline.storage.sqlite_history import history_held_open
from pipeline.storage.warehouse import RefreshRunning, Warehouse

SUMMARY_SQL = """
SELECT seed, count(*) AS files, sum(rows_read) AS read, sum(rows_loaded) AS loaded,
       sum(rows_quarantined) AS quarantined, sum(rows_skipped) AS skipped
FROM quality.load_audit WHERE run_id = ? GROUP BY seed ORDER BY seed
"""
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}, "progress": {}}}
QUARANTINE_SQL = """
SELECT seed, source_file, row_number, column_name, rule, bad_value
FROM quality.quarantine WHERE run_id = ? ORDER BY seed, source_file, row_number LIMIT 10
"""


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            if data.user_failure_data:
                text = data.user_failure_data.description
            else:  # an unexpected error: its innermost cause says what went wrong
                error = data.error
                while error.cause:
                    error = error.cause
                text = error.message.strip()
            messages.append(f"{event.step_key}: {text}")
    return messages


def check_results(result: dg.ExecuteInProcessResult) -> tuple[int, list[str], list[str]]:
    """How many asset checks passed, a line for each that warned (WARN severity: rows kept aside,
    nothing blocked) and a line for each that failed."""
    passed, warned, failed = 0, [], []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            line = f"{'/'.join(evaluation.asset_key.path)} {evaluation.check_name}: {evaluation.description or ''}"
            if evaluation.passed:
                passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                warned.append(line)
            else:
                failed.append(line)
    return passed, warned, failed


def print_summary(result: dg.ExecuteInProcessResult, warehouse: Warehouse) -> None:
    with warehouse.read_published() if result.success else warehouse.read_build() as con:
        if con is None:
            return
        rows = con.execute(SUMMARY_SQL, [result.run_id]).fetchall()
        tables = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()").fetchone()[0]
        examples = con.execute(QUARANTINE_SQL, [result.run_id]).fetchall()
    passed, warned, failed = check_results(result)
    if failed:  # first: a file that loaded nothing must not hide below a table of counts
        print(f"\n{len(failed)} asset check{'' if len(failed) == 1 else 's'} FAILED:")
        for line in failed:
            print(f"  FAILED   {line}")
    print(f"\n{'seed':<20}{'files':>6}{'read':>9}{'loaded':>9}{'quarantined':>13}{'skipped':>9}")
    for seed, files, read, loaded, quarantined, skipped in rows:
        print(f"{seed:<20}{files:>6}{read:>9}{loaded:>9}{quarantined:>13}{skipped:>9}")
    kept_aside = sum(row[4] for row in rows)
    if examples:
        print(f"\n{kept_aside} rows kept aside in quality.quarantine (first 10):")
        for seed, file, row, column, rule, value in examples:
            print(f"  {file} row {row}, column {column}: {rule} (value {value!r})")
    print(f"\nasset checks: {passed} passed, {len(warned)} warned, {len(failed)} failed{' (above)' if failed else ''}")
    for line in warned:
        print(f"  warning  {line}")
    print(f"\n{tables} tables in {warehouse.published_name if result.success else (f'the build catalog {lake.BUILD}' if warehouse.lake else str(warehouse.build_path))}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the Detour warehouse from the seeds in one Dagster run.")
    parser.add_argument(
        "--months",
        metavar="YYYY-MM[..YYYY-MM]",
        help="refresh only these months of the tables kept by month (default: every month)",
    )
    return parser.parse_args(argv)


def refresh(tags: dict) -> dg.ExecuteInProcessResult:
    """The refresh job, in process."""
    from pipeline.automation import REFRESH_JOB
    from pipeline.definitions import defs

    # Dagster's SQLite history files stay open for the run (sqlite_history.py): about a third of a run's
    # time was spent checkpointing them after every event.
    with dg.DagsterInstance.get() as instance, history_held_open():
        # The refresh ends with the Great Expectations suites, whose import takes seconds of Python: done in
        # the background while the first steps wait on DuckDB, which releases the GIL. Only once the
        # instance exists: creating Dagster's tables in a new PostgreSQL database imports sqlalchemy.orm,
        # as great_expectations does, and two threads importing it at once fail ("partially initialized
        # module 'sqlalchemy.orm.exc'": the first run after make lake-up did, one time in three).
        threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
        return defs.resolve_job_def(REFRESH_JOB).execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET, tags=tags
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tags = {}
    if args.months:
        first, _, last = args.months.partition("..")
        tags = month_tags(first, last or first)
    # so that in lake mode a concurrent run's publish can tell this run from a dead one
    tags = {**tags, lake.HOST_TAG: socket.gethostname(), lake.PID_TAG: str(os.getpid())}
    for category in (dg.BetaWarning, dg.PreviewWarning):  # beta markers of APIs we pin; not the user's concern
        warnings.filterwarnings("ignore", category=category)
    os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve()))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    from pipeline.definitions import defs

    warehouse = defs.resources["warehouse"].process_config_and_initialize()  # DETOUR_LAKE read
    print(f"seeds: {settings.seeds_dir()}\nwarehouse: {warehouse.published_name}")
    with ExitStack() as held:  # the warehouse is this run's until it has published (or failed)
        try:
            held.enter_context(warehouse.refresh_lock())
        except RefreshRunning as err:
            print(f"\nFAILED: {err}")
            return 1
        result = refresh(tags)
    print_summary(result, warehouse)
    problems = failures(result)
    if not problems and (failed := check_results(result)[2]):
        print(f"\nPUBLISHED, but not a success: {len(failed)} asset check{'' if len(failed) == 1 else 's'} failed (above).")
        return 1
    if problems:
        print("\nFAILED (the published warehouse was left as it was):")
        for message in problems:
            print(f"  {message}")
        return 1
    folder = warehouse.published_path.parent
    print(
        f"\nOpen it read-only:  .venv/bin/duckdb {f'-init {warehouse.client_sql_path}' if warehouse.lake else f'-readonly {warehouse.path}'}\n"
        f"Report:             {folder / 'report.html'} (charts in {folder / 'charts'})\n"
        f"Marts as Parquet:   {folder / 'parquet'}\n"
        f"Data Docs:          {folder / 'docs' / 'index.html'}\n"
        f"Dagster UI:         make ui  (http://127.0.0.1:{settings.ui_port()})"
    )
    return 0


def cli() -> None:
    """`detour-run`: main(), then exit without the interpreter's last garbage collection, which walks every
    object Dagster, Great Expectations and pandas made (1.6 s of a 30 s month run at 10M flows). Every
    connection and file is closed by then."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    cli()
