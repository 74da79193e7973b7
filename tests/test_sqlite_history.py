"""`make run` holds Dagster's SQLite history files open (pipeline/storage/sqlite_history.py): the WAL stays
between Dagster's one-commit connections, and nothing of the history is lost or left unmerged."""

import sqlite3
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from pipeline.storage.sqlite_history import history_held_open


def write_as_dagster_does(path: Path, rows: range) -> list[bool]:
    """One engine, connection and commit per row, as Dagster's SQLite event log stores each event; after
    each, whether the file's WAL is still there."""
    wal_kept = []
    for row in rows:
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        with engine.connect() as con, con.begin():
            con.execute(sa.text("INSERT INTO events VALUES (:row)"), {"row": row})
        engine.dispose()
        wal_kept.append(path.with_name(path.name + "-wal").exists())
    return wal_kept


def test_the_wal_stays_between_one_commit_connections_and_is_merged_at_the_end(tmp_path):
    path = tmp_path / "index.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE events (n INTEGER)")
    con.close()  # (sqlite3's `with` commits but does not close)

    # Without it, each close is the last one: SQLite checkpoints and deletes the WAL every time.
    assert write_as_dagster_does(path, range(0, 5)) == [False] * 5
    with history_held_open():
        assert write_as_dagster_does(path, range(5, 25)) == [True] * 20
    # Held open no more: the last close merged the WAL into the file and removed it.
    assert not path.with_name("index.db-wal").exists()
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*), sum(n) FROM events").fetchone() == (25, sum(range(25)))
    con.close()
    # The listener is gone with the block.
    assert write_as_dagster_does(path, range(25, 27)) == [False] * 2


def test_a_dagster_run_under_it_leaves_a_whole_history_that_another_instance_reads(tmp_path):
    months = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01")

    @dg.asset(partitions_def=months, backfill_policy=dg.BackfillPolicy.single_run())
    def monthly(context: dg.AssetExecutionContext) -> None:
        context.log.info(f"{len(context.partition_keys)} months")

    @dg.asset(deps=[monthly])
    def whole() -> None:
        pass

    home = tmp_path / "dagster_home"
    home.mkdir()
    with history_held_open(), dg.DagsterInstance.local_temp(str(home)) as instance:
        result = dg.materialize(
            [monthly, whole], instance=instance, selection=[monthly.key],
            tags={"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-12-01"},
        )
        assert result.success
        assert dg.materialize([monthly, whole], instance=instance, selection=[whole.key]).success

    assert not list(home.rglob("*-wal")) and not list(home.rglob("*-shm"))
    with dg.DagsterInstance.local_temp(str(home)) as reader:
        assert reader.get_materialized_partitions(monthly.key) == set(months.get_partition_keys())
        assert reader.get_latest_materialization_event(whole.key) is not None
        assert len(reader.get_runs()) == 2
