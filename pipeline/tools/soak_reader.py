"""A reader process of the soak (pipeline/tools/soak.py): until SIGTERM it queries the published warehouse
in a loop the way a SQL client does (open the warehouse file read-only through its link, read
quality.publish_log and every mart it names, close) and reads one mart's Parquet file through the
`parquet/` link; then prints its counts as one JSON line.

    python -m pipeline.tools.soak_reader warehouse/detour.duckdb

A clean reconnect is an attempt that failed with an I/O error while the `current` link changed under
it (a publish swapped in a new set and removed the one this attempt was opening), followed by an
immediate retry that succeeded. Anything else is a reader error: a failure with no swap during the
attempt, a retry that fails too, or a snapshot whose marts disagree with its own publish_log."""

import json
import os
import signal
import sys
import time
from pathlib import Path

import duckdb

from pipeline.storage.warehouse import Warehouse

LATEST_PUBLISH_SQL = """
SELECT mart, rows FROM quality.publish_log
WHERE run_id = (SELECT arg_max(run_id, published_at) FROM quality.publish_log) ORDER BY mart
"""
PARQUET_ROWS_SQL = "SELECT count(*) FROM read_parquet($path)"
PAUSE_SECONDS = 0.5  # between queries: an open and a query take about a second of CPU; leave most to the refresh
MESSAGES_KEPT = 5


class InconsistentSnapshot(Exception):
    """One open database whose marts do not have the rows its publish_log says they have."""


def query_once(warehouse: Path, parquet_reader: duckdb.DuckDBPyConnection) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        published = con.execute(LATEST_PUBLISH_SQL).fetchall()
        if not published:
            raise InconsistentSnapshot("quality.publish_log names no mart")
        for mart, rows in published:
            # mart names come from the warehouse's own log, not from input
            counted = con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
            if counted != rows:
                raise InconsistentSnapshot(f"marts.{mart} has {counted} rows, publish_log says {rows}")
    parquet_reader.execute(PARQUET_ROWS_SQL, {"path": str(warehouse.parent / "parquet" / f"{published[0][0]}.parquet")}).fetchone()


def set_behind(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    warehouse = Path((argv or sys.argv[1:])[0])
    current = Warehouse(path=str(warehouse)).current_path
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    parquet_reader = duckdb.connect()  # in memory, for the whole loop
    counts = {"queries": 0, "errors": 0, "clean_reconnects": 0, "messages": []}

    def error(err: Exception) -> None:
        counts["errors"] += 1
        if len(counts["messages"]) < MESSAGES_KEPT:
            counts["messages"].append(f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")

    while not stopping:
        opened = set_behind(current)
        try:
            query_once(warehouse, parquet_reader)
            counts["queries"] += 1
        except InconsistentSnapshot as err:
            error(err)
        except (duckdb.Error, OSError) as err:
            if set_behind(current) == opened:
                error(err)
            else:
                try:
                    query_once(warehouse, parquet_reader)
                    counts["queries"] += 1
                    counts["clean_reconnects"] += 1
                except (InconsistentSnapshot, duckdb.Error, OSError) as retry_err:
                    error(retry_err)
        time.sleep(PAUSE_SECONDS)
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
