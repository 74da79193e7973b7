"""Lake mode against a real local PostgreSQL (make lake-up's): the warehouse as DuckLake catalogs, built
by real `detour-run` processes sharing Dagster's instance in PostgreSQL. The tests run in file order on
one lake: a full refresh, four concurrent month refreshes with a reader querying throughout, then a
refresh killed mid-way and the one after it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
import pytest

from pipeline.storage import lake
from pipeline.assets.marts import PUBLISHED_MARTS
from tests.conftest import REPO, SHIPPED_SEEDS, materialize

MONTHS = ("2024-03", "2024-04", "2024-05", "2024-06")
LOG_SQL = "SELECT mart, rows, checksum FROM quality.publish_log WHERE run_id = $run_id ORDER BY mart"
LATEST_RUN_SQL = "SELECT arg_max(run_id, published_at) FROM quality.publish_log"
ACCOUNTING_SQL = "SELECT sum(rows_loaded + rows_quarantined + rows_skipped), sum(rows_read) FROM quality.load_audit_latest"
KEPT_ASIDE_SQL = "SELECT source_file, row_number, column_name, rule FROM quality.quarantine ORDER BY ALL"


@dataclass
class Lake:
    env: dict[str, str]
    seeds: Path
    warehouse: Path

    def run(self, *args: str, wait: bool = True):
        command = [str(Path(sys.executable).parent / "detour-run"), *args]
        if not wait:
            return subprocess.Popen(command, env=self.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
        return subprocess.run(command, env=self.env, cwd=REPO, capture_output=True, text=True)

    def connect(self, catalog: str = lake.PUBLISHED) -> duckdb.DuckDBPyConnection:
        return lake.connect(self.env["DETOUR_LAKE"], Path(self.env["DETOUR_LAKE_DATA"]), catalog, read_only=True)

    def published_log(self) -> list[tuple]:
        """The marts' rows and checksums the latest publish recorded, checked against the marts themselves."""
        from pipeline.assets.marts import PUBLISHED_MARTS
        from pipeline.assets.publish import rows_and_checksum_sql

        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            run_id = con.execute(LATEST_RUN_SQL).fetchone()[0]
            logged = con.execute(LOG_SQL, {"run_id": run_id}).fetchall()
            found = [(name, *con.execute(rows_and_checksum_sql(f"marts.{name}")).fetchone()) for name in sorted(PUBLISHED_MARTS)]
        assert logged == found
        return logged

    def differing_tables(self) -> list[str]:
        """Tables whose published copy differs from the build's now in rows, checksum, table comment or column
        comments (publish_log aside: the published one holds only published runs), or that one of the two lacks."""
        with self.connect() as con:
            lake.attach(con, self.env["DETOUR_LAKE"], Path(self.env["DETOUR_LAKE_DATA"]), lake.BUILD, read_only=True)
            tables = {catalog: set(con.execute(lake.TABLES_SQL, {"catalog": catalog}).fetchall()) for catalog in (lake.BUILD, lake.PUBLISHED)}
            differing = sorted(f"{schema}.{table}" for schema, table, _ in tables[lake.BUILD] ^ tables[lake.PUBLISHED])
            for schema, table, _ in sorted(tables[lake.BUILD] & tables[lake.PUBLISHED]):
                if (schema, table) == lake.PUBLISH_LOG:
                    continue
                described = [con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {catalog}.{schema}.{table} t").fetchone()
                             + tuple(sorted(con.execute(lake.COLUMNS_SQL, {"catalog": catalog, "schema": schema, "table": table}).fetchall()))
                             for catalog in (lake.BUILD, lake.PUBLISHED)]
                if described[0] != described[1]:
                    differing.append(f"{schema}.{table}")
        return differing

    def recreated_by_publishes(self) -> list[list[str]]:
        """For each publish, oldest first, the tables it wrote anew into the published catalog (DuckLake quotes
        names that are keywords, such as "ref")."""
        with self.connect() as con:
            return [created for (created,) in con.execute(
                "SELECT list_transform(coalesce(changes['tables_created'], []), name -> replace(name, '\"', '')) "
                f"FROM ducklake_snapshots('{lake.PUBLISHED}') WHERE starts_with(commit_message, 'publish ') ORDER BY snapshot_id").fetchall()]


FAILED_CHECKS_PY = """
import dagster as dg
with dg.DagsterInstance.get() as instance:
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])):
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = entry.dagster_event.event_specific_data
            if not evaluation.passed:
                print(run.run_id[:8], evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.description,
                      {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()})
"""


def failed_checks(env: dict[str, str]) -> str:
    """What the failed checks of failed runs found, from Dagster's instance: for the message of a failing test."""
    return subprocess.run([sys.executable, "-c", FAILED_CHECKS_PY], env=env, capture_output=True, text=True).stdout


def embedded_log(seeds: Path, folder: Path) -> list[tuple]:
    """The same seeds built in the embedded mode (one DuckDB file): what its publish recorded."""
    build = materialize(seeds, folder / "detour.duckdb")
    assert build.result.success
    (run_id,) = build.query(LATEST_RUN_SQL)[0]
    return build.query(LOG_SQL.replace("$run_id", "?"), [run_id])


@pytest.fixture(scope="module")
def lake_mode(postgres, tmp_path_factory) -> Lake:
    """A lake of its own (a new database on the tests' server), its data folder, a copy of the seeds, and
    Dagster's instance in PostgreSQL as make lake-up sets it up."""
    _, env = postgres
    name = f"lake_{uuid.uuid4().hex[:8]}"
    admin = env["DETOUR_LAKE"].rsplit("/", 1)[0] + "/postgres"
    con = psycopg2.connect(admin)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    con.close()
    folder = tmp_path_factory.mktemp("lake")
    seeds = Path(shutil.copytree(SHIPPED_SEEDS, folder / "seeds"))
    return Lake(
        env={**os.environ, **env, "DETOUR_LAKE": env["DETOUR_LAKE"].rsplit("/", 1)[0] + f"/{name}",
             "DETOUR_LAKE_DATA": str(folder / "data"), "DETOUR_SEEDS_DIR": str(seeds),
             "DETOUR_WAREHOUSE": str(folder / "warehouse" / "detour.duckdb")},
        seeds=seeds, warehouse=folder / "warehouse" / "detour.duckdb",
    )


def test_a_full_refresh_in_lake_mode_publishes_the_marts_the_embedded_mode_publishes(lake_mode, shipped_build):
    # an embedded warehouse published in the same folder first: the lake run must leave it whole
    assert materialize(lake_mode.seeds, lake_mode.warehouse).result.success
    done = lake_mode.run()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # the quarantine, accounting and audit checks hold as in the embedded mode (one warning: the 6 bad sample rows)
    assert "asset checks: 63 passed, 1 warned, 0 failed" in done.stdout
    with duckdb.connect(str(lake_mode.warehouse), read_only=True) as embedded:  # its link does not dangle
        assert embedded.execute("SELECT count(*) FROM marts.route_risk").fetchone() == shipped_build.query(
            "SELECT count(*) FROM marts.route_risk")[0]
    (run_id,) = shipped_build.query(LATEST_RUN_SQL)[0]
    assert lake_mode.published_log() == shipped_build.query(LOG_SQL.replace("$run_id", "?"), [run_id])
    with lake_mode.connect() as con:
        accounted, read = con.execute(ACCOUNTING_SQL).fetchone()
        assert accounted == read and (read,) == shipped_build.query(ACCOUNTING_SQL)[0][1:]
        assert con.execute(KEPT_ASIDE_SQL).fetchall() == shipped_build.query(KEPT_ASIDE_SQL)
        assert con.execute("SELECT count(*) FROM quality.unfinished_refresh").fetchone()[0] == 0
    # a SQL client: the duckdb CLI with the attach file the publish wrote, nothing else
    attach = lake_mode.warehouse.with_name("attach.sql")
    assert oct(attach.resolve().stat().st_mode & 0o777) == "0o600"
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "duckdb"), "-init", str(attach), "-csv", "-c",
         "SELECT count(*) FROM marts.route_risk"],
        capture_output=True, text=True, timeout=120,
    )
    ((routes,),) = shipped_build.query("SELECT count(*) FROM marts.route_risk")
    assert cli.returncode == 0 and cli.stdout.splitlines()[-1] == str(routes), cli.stdout + cli.stderr
    # the report (naming what clients attach) and the Parquet files are published beside it, as in the embedded mode
    assert "DuckLake catalog detour" in (lake_mode.warehouse.parent / "report.html").read_text()
    assert len(list((lake_mode.warehouse.parent / "parquet").glob("*.parquet"))) == len(PUBLISHED_MARTS)
    assert lake_mode.differing_tables() == []


def test_four_months_refreshed_by_concurrent_runs_all_land_and_a_reader_sees_only_whole_snapshots(lake_mode, tmp_path):
    # each month loses its last five flows: what lands must be exactly what a full build of these seeds gives
    for month in MONTHS:
        path = lake_mode.seeds / "trade_flows" / f"{month}.csv"
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:-5]))
    stop = tmp_path / "stop-reading"
    reader = subprocess.Popen([sys.executable, "-m", "tests.lake_reader", str(stop)], env=lake_mode.env, cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    runs = [lake_mode.run("--months", month, wait=False) for month in MONTHS]
    outputs = [run.communicate(timeout=1800)[0] for run in runs]
    stop.touch()
    seen = reader.communicate(timeout=120)[0]
    for month, run, output in zip(MONTHS, runs, outputs):
        assert run.returncode == 0, f"{month}:\n{output[-4000:]}\n{failed_checks(lake_mode.env)}"
        assert "0 failed" in output, output[-2000:]
    assert lake_mode.published_log() == embedded_log(lake_mode.seeds, tmp_path)
    with lake_mode.connect() as con:
        for month in MONTHS:
            lines = len((lake_mode.seeds / "trade_flows" / f"{month}.csv").read_text().splitlines()) - 1
            landed = con.execute("SELECT count(*) FROM core.trade_flows WHERE strftime(period, '%Y-%m') = $m", {"m": month}).fetchone()[0]
            assert landed == lines  # the shipped months hold no bad rows
        published = [run for (run,) in con.execute("SELECT run_id FROM quality.publish_log WHERE mart = 'route_risk'").fetchall()]
    # the full refresh published, and a month run; one that another run wrote after its checks published nothing,
    # but the last one to write always publishes (other runs' publish_log records do not supersede it)
    assert 2 <= len(published) <= 1 + len(MONTHS) and len(set(published)) == len(published)
    assert sum("Nothing published" in output for output in outputs) <= len(MONTHS) - 1
    # every table published is the build's as the last run left it, though publishes copy only what changed
    assert lake_mode.differing_tables() == []
    # so a publish of a build nothing wrote since (bar publish_log) copies no table
    alone = subprocess.run([str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "pipeline.definitions",
                            "--select", "published_warehouse"], env=lake_mode.env, cwd=REPO, capture_output=True, text=True)
    assert alone.returncode == 0 and "Nothing published" not in alone.stdout + alone.stderr, alone.stdout[-3000:] + alone.stderr[-3000:]
    assert lake_mode.recreated_by_publishes()[-1] == []
    assert "ref.claims" in lake_mode.recreated_by_publishes()[0]
    assert lake_mode.differing_tables() == []
    report = json.loads(seen)
    assert report["errors"] == [] and report["torn"] == []
    assert report["looks"] >= 10 and len(report["runs_seen"]) >= 2, report


def test_a_refresh_killed_mid_way_leaves_the_lake_whole_and_the_next_run_succeeds(lake_mode, tmp_path):
    before = lake_mode.published_log()
    started = lake_mode.run(wait=False)
    # killed once its full refresh has begun rewriting the flows (core.trade_flows, then core.routed_flows)
    deadline, marked = time.monotonic() + 300, []
    while time.monotonic() < deadline and started.poll() is None and not marked:
        with lake_mode.connect(lake.BUILD) as con:
            marked = con.execute("SELECT table_name FROM quality.unfinished_refresh").fetchall()
    assert started.poll() is None, started.communicate()[0][-3000:]
    os.killpg(started.pid, signal.SIGKILL)
    started.wait()
    assert lake_mode.published_log() == before  # what clients read did not move
    with lake_mode.connect(lake.BUILD) as con:
        unfinished = {table for (table,) in con.execute("SELECT table_name FROM quality.unfinished_refresh").fetchall()}
        assert unfinished and unfinished <= {"core.trade_flows", "core.routed_flows"}, marked
        for schema, name in con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall():
            con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchone()  # every table still reads
    # a month refresh refuses the part-built table; the next full refresh builds it whole and publishes
    refused = lake_mode.run("--months", MONTHS[0])
    assert refused.returncode == 1 and "did not finish" in refused.stdout, refused.stdout[-3000:]
    done = lake_mode.run()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert lake_mode.published_log() == embedded_log(lake_mode.seeds, tmp_path)


def test_a_commit_lost_to_the_catalogs_snapshot_key_is_retried_like_a_conflict():
    # as CI saw it: four concurrent month runs, two commits off one snapshot took the same next snapshot id
    lost = duckdb.TransactionException(
        'TransactionContext Error: Failed to commit: Failed to commit DuckLake transaction.\nFailed to flush changes into '
        'DuckLake: Failed to execute query "INSERT INTO "detour_build".ducklake_snapshot VALUES (77, NOW(), 77, 78, 70);": '
        'ERROR:  duplicate key value violates unique constraint "ducklake_snapshot_pkey"\nDETAIL:  Key (snapshot_id)=(77) '
        'already exists.')
    assert lake.is_conflict(lost)
    try:  # as the warehouse resource meets it: the cause of the step's own error
        raise RuntimeError("reference_tables failed") from lost
    except RuntimeError as error:
        assert lake.is_conflict(error)
    exhausted = duckdb.TransactionException(
        "TransactionContext Error: Failed to commit: Failed to commit DuckLake transaction.\nExceeded the maximum retry "
        "count of 10 set by the ducklake_max_retry_count setting.")
    assert lake.is_conflict(exhausted)
    # a key the user's own data breaks, or any other failed commit, is not retried
    assert not lake.is_conflict(duckdb.ConstraintException('Duplicate key "flow_id: F1" violates primary key constraint'))
    assert not lake.is_conflict(duckdb.TransactionException(
        "TransactionContext Error: Failed to commit: Failed to commit DuckLake transaction.\nCould not write file: No space left on device"))
