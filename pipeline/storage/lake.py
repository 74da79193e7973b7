"""Lake mode (DETOUR_LAKE, DETOUR_LAKE_DATA): the warehouse as two DuckLake catalogs in one PostgreSQL
database, their data as Parquet under the data path. Runs build into `build` (metadata schema
detour_build, data under DATA/build); a publish copies every table and view of `build` into `detour`
(metadata schema detour, data under DATA/published) in one transaction, but for the tables no commit
has touched since the build snapshot it last copied (their copies stand), so the published catalog moves
from one complete snapshot to the next and a failed blocking check, which publishes nothing, leaves it
where it was. SQL clients attach `detour` read-only (`client_sql`) from any process.

DuckLake has one writer per table at a time in effect: two transactions that delete from, or alter,
the same table conflict, and the second fails at COMMIT. The warehouse resource turns that failure
into a Dagster retry of the step after a random, doubling wait (`retry_conflict`).

The DuckDB extensions come from PyPI wheels (duckdb-extension-ducklake, -postgres-scanner) and are
loaded from their files: nothing is downloaded at run time."""

import hashlib
import importlib.util
import os
import random
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from pipeline import settings

EXTENSIONS = {"postgres_scanner": "duckdb_extension_postgres_scanner", "ducklake": "duckdb_extension_ducklake"}
BUILD = "build"
PUBLISHED = "detour"
METADATA_SCHEMAS = {BUILD: "detour_build", PUBLISHED: "detour"}
DATA_FOLDERS = {BUILD: "build", PUBLISHED: "published"}
CONFLICT = "Transaction conflict"
# Two commits to the PostgreSQL catalog off one snapshot both take its next snapshot id, and the later one fails on
# the catalog's key (duckdb/ducklake#1094, #1283), past DuckLake's own retries or around them: a lost commit too,
# and nothing of it committed (seen in CI, four concurrent month runs, on reference_tables).
LOST_COMMIT = ("Failed to commit DuckLake transaction", ("duplicate key value violates unique constraint \"ducklake_",
                                                         "Exceeded the maximum retry count"))
MAX_RETRIES = 10  # 4 concurrent month refreshes needed up to 5 on one step (BENCHMARKS.md)
FIRST_WAIT_S, LONGEST_WAIT_S = 1.0, 60.0
HOST_TAG, PID_TAG = "detour/host", "detour/pid"  # run tags set by detour-run: whether its process still lives
# A run's steps that write nothing to the build and come after every step that does.
READING_STEPS = ("great_expectations_suites", "published_warehouse")
WAIT_S = 5


def extension_file(name: str) -> Path:
    """The .duckdb_extension file inside the wheel installed for this DuckDB version."""
    spec = importlib.util.find_spec(EXTENSIONS[name])
    if spec is None:
        raise RuntimeError(f"lake mode needs the Python package {EXTENSIONS[name].replace('_', '-')}=={duckdb.__version__}")
    found = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not found.exists():
        raise RuntimeError(f"{found} not found: {EXTENSIONS[name]} does not match duckdb {duckdb.__version__}")
    return found


def attach_sql(catalog: str, url: str, data: Path | None, read_only: bool = False, snapshot: int | None = None) -> str:
    """ATTACH of one of the two catalogs. DDL takes no bound parameters: the URL and folder are quoted."""
    options = [f"METADATA_SCHEMA '{METADATA_SCHEMAS[catalog]}'"]
    if data is not None:
        options.append(f"DATA_PATH {quoted(str(data / DATA_FOLDERS[catalog]) + '/')}")
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    return f"ATTACH {quoted('ducklake:postgres:' + url)} AS {catalog} ({', '.join(options)})"


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(url: str, data: Path, catalog: str, read_only: bool = False, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with `catalog` attached and in use, memory held to DETOUR_DUCKDB_MEMORY; it
    spills to a folder of its own, which DuckDB removes on close. Raises NoLake when a read-only
    `catalog` was never created (nothing published yet)."""
    spill = spill_folder() / f"{os.getpid()}-{random.getrandbits(32):08x}.tmp"
    con = duckdb.connect(config={"memory_limit": settings.duckdb_memory_limit(), "temp_directory": str(spill)})
    try:
        for name in EXTENSIONS:
            con.execute(f"LOAD {quoted(str(extension_file(name)))}")
        attach(con, url, data, catalog, read_only=read_only, snapshot=snapshot)
        con.execute(f"USE {catalog}")
    except BaseException:
        con.close()
        raise
    return con


def spill_folder() -> Path:
    """Where lake connections spill, private to this user (DuckDB makes and removes one folder inside per
    connection)."""
    folder = Path(tempfile.gettempdir()) / f"detour-lake-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        raise RuntimeError(f"{folder} is not private to this user: remove it")
    return folder


class NoLake(Exception):
    """The catalog was never created."""


def attach(con: duckdb.DuckDBPyConnection, url: str, data: Path, catalog: str, read_only: bool = False,
           snapshot: int | None = None) -> None:
    if not read_only:
        data.joinpath(DATA_FOLDERS[catalog]).mkdir(parents=True, exist_ok=True)
    try:
        con.execute(attach_sql(catalog, url, data, read_only=read_only, snapshot=snapshot))
    except duckdb.InvalidInputException as error:
        if "does not exist" in str(error):
            raise NoLake(catalog) from None
        raise
    except duckdb.IOException as error:  # the server is down or refuses us: say so without the password
        raise RuntimeError(f"DuckLake catalog {catalog} at {redacted(url, url)} does not attach: "
                           f"{redacted(str(error), url).splitlines()[-1].strip()}") from None


def redacted(text: str, url: str) -> str:
    """`text` with the password of `url` replaced by ***."""
    if "@" in url and "://" in url:
        credentials = url.split("://", 1)[1].split("@", 1)[0]
        if ":" in credentials:
            return text.replace(credentials, credentials.split(":", 1)[0] + ":***")
    return text


def client_sql(url: str) -> str:
    """What a SQL client runs (duckdb -init FILE) to query the published marts: the extensions from
    this environment's wheels and the published catalog, read-only."""
    loads = "\n".join(f"LOAD {quoted(str(extension_file(name)))};" for name in EXTENSIONS)
    return f"{loads}\n{attach_sql(PUBLISHED, url, None, read_only=True)};\nUSE {PUBLISHED};\n"


def setup_tag(setup_sql: str) -> str:
    return "setup " + hashlib.md5(setup_sql.encode()).hexdigest()


def is_set_up(con: duckdb.DuckDBPyConnection, catalog: str, setup_sql: str) -> bool:
    """The schema setup is skipped once a snapshot of this very setup exists: rerun on every connection,
    its COMMENT ONs alter tables and so conflict with every concurrent insert into them."""
    return con.execute(
        f"SELECT count(*) > 0 FROM ducklake_snapshots({quoted(catalog)}) WHERE commit_message = $tag",
        {"tag": setup_tag(setup_sql)},
    ).fetchone()[0]


def label_commit(con: duckdb.DuckDBPyConnection, catalog: str, message: str) -> None:
    """Name the open transaction's snapshot (ducklake_snapshots(...).commit_message)."""
    con.execute(f"CALL {catalog}.set_commit_message('detour', $message)", {"message": message})


def is_conflict(error: BaseException | None) -> bool:
    """A lost DuckLake commit conflict, raised as it is or as the cause of another error."""
    commit, races = LOST_COMMIT
    while error is not None:
        text = str(error)
        if isinstance(error, duckdb.TransactionException) and (
                CONFLICT in text or (commit in text and any(race in text for race in races))):
            return True
        error = error.__cause__ or error.__context__
    return False


def retry_conflict(error: BaseException) -> dg.RetryRequested:
    """A Dagster retry of the step that lost a commit conflict: a random wait, doubling with each retry
    (so concurrent losers spread out), at most MAX_RETRIES times."""
    try:
        attempt = dg.OpExecutionContext.get().retry_number
    except dg.DagsterInvariantViolationError:
        attempt = 0
    wait = min(LONGEST_WAIT_S, FIRST_WAIT_S * 2**attempt) * random.uniform(0.5, 1.0)
    dg.get_dagster_logger().warning(
        f"DuckLake commit conflict (another run wrote the same table); retry {attempt + 1} of {MAX_RETRIES} "
        f"in {wait:.1f} s: {str(error).splitlines()[-1][:200]}"
    )
    return dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait)


PUBLISH_LOG = ("quality", "publish_log")
TABLES_SQL = """
SELECT schema_name, table_name, coalesce(comment, '') FROM duckdb_tables()
WHERE database_name = $catalog ORDER BY ALL
"""
COLUMNS_SQL = """
SELECT column_name, comment FROM duckdb_columns()
WHERE database_name = $catalog AND schema_name = $schema AND table_name = $table AND coalesce(comment, '') <> ''
"""
VIEWS_SQL = """
SELECT schema_name, view_name, sql, coalesce(comment, '') FROM duckdb_views()
WHERE database_name = $catalog AND NOT internal ORDER BY ALL
"""


# The build snapshot the published catalog was last copied from, and its time in µs: named in the
# publish commits (publish_tag); none if the latest publish names none.
LAST_COPY_SQL = f"""
SELECT TRY_CAST(regexp_extract(commit_message, ' of build snapshot (\\d+) at (\\d+)$', 1) AS BIGINT),
       TRY_CAST(regexp_extract(commit_message, ' of build snapshot (\\d+) at (\\d+)$', 2) AS BIGINT)
FROM ducklake_snapshots('{PUBLISHED}') WHERE starts_with(commit_message, 'publish ')
ORDER BY snapshot_id DESC LIMIT 1
"""
SNAPSHOT_TIME_SQL = f"SELECT epoch_us(snapshot_time) FROM ducklake_snapshots('{BUILD}') WHERE snapshot_id = $snapshot"
# The build's tables at snapshot $now that no commit after $since touched: the published copies taken
# at $since still hold them. Every change a snapshot lists names its tables by id (a table created
# again is a new id). Nothing counts as unchanged when a snapshot in between is missing (expired).
UNCHANGED_SQL = f"""
WITH later AS (
    SELECT changes FROM ducklake_snapshots('{BUILD}') WHERE snapshot_id > $since AND snapshot_id <= $now
), touched AS (
    SELECT DISTINCT unnest(flatten(map_values(changes))) AS item FROM later
)
SELECT s.schema_name, t.table_name
FROM __ducklake_metadata_{BUILD}.{METADATA_SCHEMAS[BUILD]}.ducklake_table t
JOIN __ducklake_metadata_{BUILD}.{METADATA_SCHEMAS[BUILD]}.ducklake_schema s USING (schema_id)
WHERE t.begin_snapshot <= $since AND (t.end_snapshot IS NULL OR t.end_snapshot > $now)
  AND t.table_id::VARCHAR NOT IN (SELECT item FROM touched)
  AND (SELECT count(*) FROM later) = $now - $since
"""


class NotNow(Exception):
    """The build is not in a state to read whole yet (another run is mid-way through writing it)."""


class Unfit(NotNow):
    """What a publish would copy is not what this run recorded (the verify of `publish`)."""


class Superseded(Exception):
    """Another run wrote the build after this run's checks read it: its checks and publish cover it."""


def writing_runs(since: float) -> list[str]:
    """Other runs that may have been mid-way through writing the build at `since` (a Unix time): started
    before it, and then either not yet at a step of READING_STEPS or at one only after it; not known
    dead. A run is known dead when it ran on this machine (HOST_TAG, PID_TAG) and its process is gone; a
    run elsewhere that died holds the others up until it is marked failed (Terminate in the UI)."""
    context = dg.OpExecutionContext.get()
    instance, me = context.instance, context.run_id
    records = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]))
    writing = []
    for record in records:
        run = record.dagster_run
        if run.run_id == me or not alive(run) or (record.start_time or 0) > since:
            continue  # a run started after `since` has nothing in a snapshot taken before
        reading_from = min((entry.timestamp for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
                            if entry.step_key in READING_STEPS), default=None)
        if reading_from is None or reading_from > since:
            writing.append(run.run_id)
    return writing


def tag_run() -> None:
    """Name this process on its run, so that other runs can tell when it died (alive)."""
    context = dg.OpExecutionContext.get()
    if context.run.tags.get(PID_TAG) != str(os.getpid()):
        context.instance.add_run_tags(context.run_id, {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})


def alive(run: dg.DagsterRun) -> bool:
    if run.tags.get(HOST_TAG) != socket.gethostname() or not run.tags.get(PID_TAG, "").isdigit():
        return True
    return process_lives(int(run.tags[PID_TAG]))


def process_lives(pid: int) -> bool:
    """Whether process `pid` of this machine exists (another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def begin_settled(con: duckdb.DuckDBPyConnection) -> int:
    """Begin a transaction whose snapshot holds no other run's half-written months, and return the
    snapshot's id. The snapshot is fixed by the first read; the runs that were writing at that moment
    are then looked for, so a run that starts or ends writing after it does not count. Raises NotNow
    (nothing begun) while one of them is mid-way."""
    since = time.time()
    con.execute("BEGIN TRANSACTION")
    (snapshot,) = con.execute(f"SELECT id FROM {BUILD}.current_snapshot()").fetchone()
    try:
        refuse_while_others_write(since)
    except NotNow:
        con.execute("ROLLBACK")
        raise
    return snapshot


def refuse_while_others_write(since: float | None = None) -> None:
    if writing := writing_runs(time.time() if since is None else since):
        raise NotNow(f"run(s) {', '.join(run[:8] for run in writing)} still writing the build")


def when_settled(attempt: Callable[[], object]) -> object:
    """attempt() until it does not raise NotNow, waiting WAIT_S between tries, for at most
    DETOUR_SETTLE_WAIT_MINUTES."""
    deadline = time.monotonic() + settings.settle_wait_minutes() * 60
    while True:
        try:
            return attempt()
        except NotNow as not_now:
            if time.monotonic() > deadline:
                raise dg.Failure(
                    description=f"Gave up after {settings.settle_wait_minutes():g} minutes: {not_now}. "
                    "If that run died, mark it failed (Terminate in the UI) and run this again.",
                    allow_retries=False,
                ) from None
            dg.get_dagster_logger().info(f"waiting: {not_now}")
            time.sleep(WAIT_S)


def record_tag(run_id: str) -> str:
    """The commit message of a run's rows in quality.publish_log, its only write after its checks; no
    run's record supersedes another's (they touch no data the checks read)."""
    return f"record {run_id}"


def publish_tag(run_id: str, copied_from: int, at: int) -> str:
    return f"publish {run_id} of build snapshot {copied_from} at {at}"


def unchanged_tables(con: duckdb.DuckDBPyConnection, now: int) -> set[tuple[str, str]]:
    """The build's tables (schema, name) at snapshot `now` that no commit touched since the build snapshot
    the published catalog was last copied from; none when that cannot be told: the latest publish names
    no snapshot, or the one it names is not this build's (its time differs: the catalog was made anew)."""
    since, at = con.execute(LAST_COPY_SQL).fetchone() or (None, None)
    if since is None or con.execute(SNAPSHOT_TIME_SQL, {"snapshot": since}).fetchone() != (at,):
        return set()
    return set(con.execute(UNCHANGED_SQL, {"since": since, "now": now}).fetchall())


def publish(con: duckdb.DuckDBPyConnection, url: str, data: Path, run_id: str, checked: int | None, verify) -> int:
    """Copy every table and view of a settled `build` (begin_settled) into the published catalog,
    comments too, in one transaction (one snapshot); tables gone from the build go from it too, and
    tables no commit touched since the build snapshot last copied are left as they are (all are copied
    when that cannot be told). What is copied is what this run's checks read (snapshot `checked`) but
    for publish_log rows: if another run has written data since, Superseded. Before the commit
    `verify(con)` may name a reason the copy is not fit to publish: then nothing is committed and Unfit
    (a NotNow) says why. Returns the new snapshot's id."""
    attach(con, url, data, PUBLISHED)
    now = begin_settled(con)
    if checked is not None:
        later = con.execute(
            f"SELECT count(*) FROM ducklake_snapshots({quoted(BUILD)}) WHERE snapshot_id > $checked "
            "AND NOT starts_with(coalesce(commit_message, ''), $records)", {"checked": checked, "records": record_tag("")},
        ).fetchone()[0]
        if later:
            con.execute("ROLLBACK")
            raise Superseded(f"{later} commit(s) of other runs reached the build after this run's checks read it "
                             f"(snapshot {checked}); the run that wrote last checks and publishes them")
    tables = con.execute(TABLES_SQL, {"catalog": BUILD}).fetchall()
    for schema in sorted({schema for schema, _, _ in tables}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {PUBLISHED}.{schema}")
    for schema, table, _, _ in con.execute(VIEWS_SQL, {"catalog": PUBLISHED}).fetchall():
        con.execute(f"DROP VIEW {PUBLISHED}.{schema}.{table}")
    wanted = {(schema, table) for schema, table, _ in tables}
    published = {(schema, table) for schema, table, _ in con.execute(TABLES_SQL, {"catalog": PUBLISHED}).fetchall()}
    for schema, table in published - wanted:
        con.execute(f"DROP TABLE {PUBLISHED}.{schema}.{table}")
    unchanged = unchanged_tables(con, now) & published
    # names come from the build's catalog, which only the pipeline's own SQL writes
    for schema, table, comment in tables:
        if (schema, table) == PUBLISH_LOG:
            # the published log names only what was published, this run added: a concurrent run may have
            # recorded in the build a publish it has not made yet
            con.execute(f"CREATE TABLE IF NOT EXISTS {PUBLISHED}.{schema}.{table} AS FROM {BUILD}.{schema}.{table} LIMIT 0")
            con.execute(f"INSERT INTO {PUBLISHED}.{schema}.{table} FROM {BUILD}.{schema}.{table} WHERE run_id = $run_id",
                        {"run_id": run_id})
        elif (schema, table) in unchanged:
            continue  # its comments are unchanged too: a COMMENT ON alters the table
        else:
            con.execute(f"CREATE OR REPLACE TABLE {PUBLISHED}.{schema}.{table} AS FROM {BUILD}.{schema}.{table}")
        if comment:
            con.execute(f"COMMENT ON TABLE {PUBLISHED}.{schema}.{table} IS {quoted(comment)}")
        for column, text in con.execute(COLUMNS_SQL, {"catalog": BUILD, "schema": schema, "table": table}).fetchall():
            con.execute(f'COMMENT ON COLUMN {PUBLISHED}.{schema}.{table}."{column}" IS {quoted(text)}')
    con.execute(f"USE {PUBLISHED}")  # a view's unqualified tables are bound in the catalog in use
    for schema, view, sql, comment in con.execute(VIEWS_SQL, {"catalog": BUILD}).fetchall():
        select = sql[sql.upper().index(" AS ") + 4:]
        con.execute(f"CREATE VIEW {PUBLISHED}.{schema}.{view} AS {select}")
        if comment:
            con.execute(f"COMMENT ON VIEW {PUBLISHED}.{schema}.{view} IS {quoted(comment)}")
    if reason := verify(con):
        con.execute("ROLLBACK")
        con.execute(f"USE {BUILD}")
        raise Unfit(reason)
    tag = publish_tag(run_id, now, con.execute(SNAPSHOT_TIME_SQL, {"snapshot": now}).fetchone()[0])
    label_commit(con, PUBLISHED, tag)
    con.execute("COMMIT")
    con.execute(f"USE {BUILD}")
    return con.execute(
        f"SELECT max(snapshot_id) FROM ducklake_snapshots({quoted(PUBLISHED)}) WHERE commit_message = $tag", {"tag": tag}
    ).fetchone()[0]
