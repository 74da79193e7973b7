"""The warehouse: every run builds into a private build file; `publish` swaps a complete copy over
the published file atomically, so SQL clients holding it open read-only never block a refresh and
never see a half-built state (they keep their snapshot until they reconnect). In lake mode
(DETOUR_LAKE) the build and the published warehouse are DuckLake catalogs instead (pipeline/storage/lake.py);
the assets and their SQL are the same."""

import datetime as dt
import fcntl
import html
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipeline import settings
from pipeline.storage import lake

SETUP_SQL = (Path(__file__).parent / "warehouse.sql").read_text()
# A step waiting for another process's refresh: tried again every 30 s for up to two hours.
REFRESH_RETRY_SECONDS, REFRESH_RETRIES = 30, 240


class RefreshRunning(Exception):
    """Another refresh holds the warehouse; the message names it."""


LOCKED = re.compile(r"Could not set lock on file.*?PID (\d+)", re.S)
# Every asset that writes the build file; dagster.yaml limits the pool to one run. A lake takes concurrent
# writers (conflicts are retried), so there the assets are in no pool.
POOL = None if settings.lake_url() else "warehouse"


def read_sql(module_file: str, name: str) -> str:
    """A .sql file that lives beside the module that runs it."""
    return (Path(module_file).parent / name).read_text()


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> None:
    """Run every statement of a .sql file, binding to each only the parameters it names."""
    for statement in con.extract_statements(sql):
        names = statement.named_parameters
        con.execute(statement, {name: params[name] for name in names} if names else None)


def drop_tables(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Drop tables a full rebuild recreates, so a changed layout takes effect (names from code)."""
    for table in tables:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def sql_literal(text: str) -> str:
    """Quote text written by the code (comments); DDL cannot take bound parameters."""
    return "'" + text.replace("'", "''") + "'"


UNFINISHED_SQL = "SELECT table_name, run_id, started_at FROM quality.unfinished_refresh WHERE table_name = coalesce($table, table_name) ORDER BY ALL"
FULL_REFRESH_HINT = "Run a full refresh first: `make run`, or the job refresh_all in the UI."


def unfinished_refreshes(con: duckdb.DuckDBPyConnection, table: str | None = None) -> list[str]:
    """A line for each table (or `table`) whose full refresh began and never finished."""
    return [
        f"{name}: the full refresh of run {run_id[:8]} (begun {started:%Y-%m-%d %H:%M:%S %Z}) did not finish, so it holds only the months that run committed"
        for name, run_id, started in con.execute(UNFINISHED_SQL, {"table": table}).fetchall()
    ]


def begin_window(con: duckdb.DuckDBPyConnection, table: str, full: bool, run_id: str) -> None:
    """Before a step rewrites its window of `table` in pieces, each committed (in the open transaction, to be
    committed with its first piece). A full refresh marks the table unfinished until `end_window`; a refresh
    of some months refuses a table whose full refresh never finished, rather than build on its remains."""
    if full:
        end_window(con, table)
        con.execute("INSERT INTO quality.unfinished_refresh VALUES ($table, $run_id, now())",
                    {"table": table, "run_id": run_id})
    elif unfinished := unfinished_refreshes(con, table):
        raise dg.Failure(description=f"{unfinished[0]}. {FULL_REFRESH_HINT}", allow_retries=False)


# The reference seed files of each seed's latest load, path and sha256: what every table kept by month is built on.
REF_INPUTS_SQL = """
SELECT md5(coalesce(string_agg(DISTINCT source_file || ':' || file_sha256, chr(10) ORDER BY source_file || ':' || file_sha256), ''))
FROM quality.load_audit a
WHERE seed <> 'trade_flows'
  AND run_id = (SELECT arg_max(run_id, loaded_at) FROM quality.load_audit b WHERE b.seed = a.seed)
"""


def settle_window(con: duckdb.DuckDBPyConnection, table: str, win, every_month, run_id: str):
    """The window a step rewrites: `win`, or every month when the reference seeds changed since `table` was last
    rebuilt whole (an FX row, a measure, a rule: months outside the window would keep the old ones). A full
    rebuild records what it was built on."""
    (current,) = con.execute(REF_INPUTS_SQL).fetchone()
    if not win.full:
        recorded = con.execute("SELECT ref_inputs FROM quality.window_basis WHERE table_name = $table",
                               {"table": table}).fetchone()
        if recorded is not None and recorded[0] == current:
            return win
        why = "the reference seeds changed since it was last rebuilt whole" if recorded else "no full rebuild of it is on record"
        dg.get_dagster_logger().warning(
            f"{table}: {why}: every month is rebuilt, not only "
            f"{win.span}, so no month keeps a rate, measure or rule the reference tables no longer hold")
        win = every_month
    con.execute("DELETE FROM quality.window_basis WHERE table_name = $table", {"table": table})
    con.execute("INSERT INTO quality.window_basis VALUES ($table, $inputs, $run_id, now())",
                {"table": table, "inputs": current, "run_id": run_id})
    return win


def end_window(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """In the transaction of the step's last piece: the table is whole again."""
    con.execute("DELETE FROM quality.unfinished_refresh WHERE table_name = $table", {"table": table})


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection held to DETOUR_DUCKDB_MEMORY like the build's (DuckDB's own default is 80% of
    RAM: the publish's Parquet export of a 100M-flow build took the run from 3.9 to 5.3 GB); past the limit,
    sorts spill to a folder beside the file, which DuckDB removes on close."""
    return duckdb.connect(str(path), read_only=True, config=memory_bounds(path))


def memory_bounds(path: Path) -> dict[str, str]:
    """DETOUR_DUCKDB_MEMORY for a connection to `path`, spilling to a folder beside it."""
    return {"memory_limit": settings.duckdb_memory_limit(), "temp_directory": str(path) + ".tmp"}


# Views whose columns mean what their table's columns mean: they carry the same comments.
VIEWS_OF_TABLES = {
    "quality.load_audit_latest": "quality.load_audit",
    "core.trade_flows_real": "core.trade_flows",
    "core.trade_flows_illustrative": "core.trade_flows",
}
# Only the comments a view lacks (its CREATE OR REPLACE clears them; core's views come with its first run): one
# statement per missing comment, not one per column on every connection.
MISSING_VIEW_COMMENTS_SQL = """
WITH views AS (SELECT unnest($views) AS view, unnest($tables) AS source_table)
SELECT m.view, v.column_name, t.comment
FROM views m
JOIN duckdb_columns() v ON v.database_name = current_database() AND v.schema_name || '.' || v.table_name = m.view
JOIN duckdb_columns() t ON t.database_name = current_database() AND t.schema_name || '.' || t.table_name = m.source_table
                       AND t.column_name = v.column_name
WHERE t.comment <> '' AND v.comment IS DISTINCT FROM t.comment
ORDER BY ALL
"""


def comment_views(con: duckdb.DuckDBPyConnection) -> None:
    missing = con.execute(MISSING_VIEW_COMMENTS_SQL, {"views": list(VIEWS_OF_TABLES), "tables": list(VIEWS_OF_TABLES.values())})
    for view, column, comment in missing.fetchall():
        con.execute(f'COMMENT ON COLUMN {view}."{column}" IS {sql_literal(comment)}')


class Warehouse(dg.ConfigurableResource):
    """The published DuckDB file (`path`) and the build file beside it that runs write to; in lake mode
    (`lake`, a PostgreSQL URL, and `lake_data`, a folder) the two DuckLake catalogs of pipeline/storage/lake.py.
    Either way the published set's report, Parquet and Data Docs live beside `path`."""

    path: str
    lake: str = ""
    lake_data: str = ""

    @property
    def published_path(self) -> Path:
        return Path(self.path)

    @property
    def build_path(self) -> Path:
        published = self.published_path
        return published.with_name(f"{published.stem}.build{published.suffix or '.duckdb'}")

    @property
    def published_name(self) -> str:
        """What SQL clients open, as a person would be told it."""
        if self.lake:
            return f"DuckLake catalog {lake.PUBLISHED} at {lake.redacted(self.lake, self.lake)} (attach: duckdb -init {self.client_sql_path})"
        return str(self.published_path)

    @property
    def published_label(self) -> str:
        """What SQL clients open, named for a page forwarded to others: no local path, no server."""
        return f"the DuckLake catalog {lake.PUBLISHED}" if self.lake else self.published_path.name

    @property
    def client_sql_path(self) -> Path:
        """Lake mode: the SQL a client runs to attach the published catalog (duckdb -init FILE)."""
        return self.published_path.with_name("attach.sql")

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-write connection to the build, started from the published warehouse if needed."""
        if self.lake:
            with self.connect_lake() as con:
                yield con
            return
        self.wait_for_refresh()
        build = self.build_path
        if not build.exists():
            build.parent.mkdir(parents=True, exist_ok=True)
            if self.published_path.exists():
                shutil.copyfile(self.published_path, build)
        try:
            con = self.open_build()
        except duckdb.Error as err:
            if LOCKED.search(str(err)):
                raise dg.Failure(description=self.held_by(str(err)), allow_retries=False) from None
            # a build file a crash or a full disk left unreadable: start again from the published warehouse
            dg.get_dagster_logger().warning(
                f"{build} does not open ({str(err).splitlines()[0][:160]}): discarded and rebuilt from {self.published_path}"
            )
            for leftover in (build, build.with_name(build.name + ".wal")):
                leftover.unlink(missing_ok=True)
            if self.published_path.exists():
                shutil.copyfile(self.published_path, build)
            con = self.open_build()
        try:
            # one commit, not one per statement: each is a sync of the WAL, and steps connect 28 times a run
            con.execute("BEGIN TRANSACTION")
            con.execute(SETUP_SQL)
            comment_views(con)
            con.execute("COMMIT")
            yield con
        finally:
            con.close()

    @contextmanager
    def connect_lake(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The build catalog, set up once per version of warehouse.sql (DuckLake keeps no comments on a
        view's columns, so those are the embedded mode's alone). A lost commit conflict retries the step."""
        self.published_path.parent.mkdir(parents=True, exist_ok=True)  # the sets and the checks' Data Docs
        try:
            lake.tag_run()
        except dg.DagsterInvariantViolationError:
            pass  # outside a Dagster step
        con = lake.connect(self.lake, Path(self.lake_data), lake.BUILD)
        try:
            if not lake.is_set_up(con, lake.BUILD, SETUP_SQL):
                con.execute("BEGIN TRANSACTION")
                con.execute(SETUP_SQL)
                lake.label_commit(con, lake.BUILD, lake.setup_tag(SETUP_SQL))
                con.execute("COMMIT")
            yield con
        except Exception as error:
            if lake.is_conflict(error):
                raise lake.retry_conflict(error) from error
            raise
        finally:
            con.close()

    @contextmanager
    def settled(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, int | None]]:
        """The build to read whole, as the checks do, and in lake mode the id of the snapshot read.
        Embedded, the pool keeps other runs out. In lake mode one transaction on a snapshot no other
        run is mid-way through writing (lake.begin_settled), waiting for them if need be."""
        with self.connect() as con:
            if not self.lake:
                yield con, None
                return
            snapshot = lake.when_settled(lambda: lake.begin_settled(con))
            try:
                yield con, snapshot
            finally:
                con.execute("ROLLBACK")

    def label(self, con: duckdb.DuckDBPyConnection, message: str) -> None:
        """In lake mode, name the open transaction's snapshot of the build."""
        if self.lake:
            lake.label_commit(con, lake.BUILD, message)

    def read_published(self, snapshot: int | None = None):
        """A read-only connection to the published warehouse (in lake mode at `snapshot`, else the
        latest); None before the first publish."""
        return self.read(lake.PUBLISHED, self.published_path, snapshot)

    def read_build(self):
        """A read-only connection to the build; None if there is none."""
        return self.read(lake.BUILD, self.build_path)

    @contextmanager
    def read(self, catalog: str, path: Path, snapshot: int | None = None) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """Read-only: the lake's `catalog` in lake mode, else the file `path`; None if it does not exist."""
        if self.lake:
            try:
                con = lake.connect(self.lake, Path(self.lake_data), catalog, read_only=True, snapshot=snapshot)
            except lake.NoLake:
                con = None
        else:
            con = open_read_only(path) if path.exists() else None
        try:
            yield con
        finally:
            if con is not None:
                con.close()

    def open_build(self) -> duckdb.DuckDBPyConnection:
        """Open the build file and check that its catalog reads (a truncated file fails here, not mid-run)."""
        # Bounded memory: past the limit DuckDB spills to a folder beside the build file.
        con = duckdb.connect(str(self.build_path), config=memory_bounds(self.build_path))
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        except duckdb.Error:
            con.close()
            raise
        return con

    @property
    def refresh_lock_path(self) -> Path:
        return self.published_path.with_name(self.published_path.name + ".refresh.lock")

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Held for a whole `detour-run` (embedded mode): a second refresh of the warehouse fails at once, naming
        the first, instead of interleaving its steps with it and leaving a mixed build; runs the daemon launches
        wait for it (see wait_for_refresh). Lake mode takes concurrent runs by design and needs none."""
        if self.lake:
            yield
            return
        path = self.refresh_lock_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RefreshRunning(self.refresh_holder()) from None
            lock.seek(0)
            lock.truncate()
            lock.write(f"{os.getpid()}\n")
            lock.flush()
            try:
                yield
            finally:
                path.unlink(missing_ok=True)  # still held: a refresh starting now makes a new lock of its own

    def refresh_holder(self) -> str:
        pid = self.refresh_lock_path.read_text(encoding="utf-8").strip() or "?"
        started = Path(f"/proc/{pid}")
        since = f" since {dt.datetime.fromtimestamp(started.stat().st_ctime):%Y-%m-%d %H:%M:%S}" if pid.isdigit() and started.exists() else ""
        return (f"another refresh (PID {pid}) is running on {self.published_path}{since}; this run changed nothing. "
                "Wait for it to finish, or stop it, and run again.")

    def wait_for_refresh(self) -> None:
        """A step of a run the daemon launched (schedule, sensor, UI) while `detour-run` holds the warehouse: the
        step is retried later rather than failed, so the refresh that lost the lock still happens."""
        path = self.refresh_lock_path
        if self.lake or not path.exists():
            return
        with open(path, encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self.refresh_holder()
                if holder.startswith(f"another refresh (PID {os.getpid()})"):
                    return  # this process is the refresh: its own steps
                dg.get_dagster_logger().warning(f"{holder} Retrying this step in {REFRESH_RETRY_SECONDS} s.")
                raise dg.RetryRequested(max_retries=REFRESH_RETRIES, seconds_to_wait=REFRESH_RETRY_SECONDS) from None

    def held_by(self, message: str) -> str:
        """One line for a second writer: which process holds the build file, and since when."""
        pid = LOCKED.search(message).group(1)
        started = Path(f"/proc/{pid}")
        since = f" since {dt.datetime.fromtimestamp(started.stat().st_ctime):%Y-%m-%d %H:%M:%S}" if started.exists() else ""
        return (f"another refresh (PID {pid}) holds the build file {self.build_path}{since}; this run changed nothing. "
                "Wait for it to finish, or stop it, and run again.")

    @property
    def build_docs_path(self) -> Path:
        """Data Docs of the build, written by the Great Expectations check; published with it."""
        return self.build_path.with_name(self.build_path.name + ".docs")

    def docs_staging(self) -> Path:
        """A new folder for a check to write Data Docs into, named for its machine and process, so that
        remove_dead_stagings leaves those of live processes alone."""
        return Path(tempfile.mkdtemp(prefix=f"{self.build_docs_path.name}.{socket.gethostname()}-{os.getpid()}.",
                                     dir=self.build_path.parent))

    @contextmanager
    def docs_lock(self) -> Iterator[None]:
        """Held to replace the build's Data Docs, and to publish: in lake mode runs check and publish at
        once. The lock is on the warehouse folder itself, so it leaves no file behind."""
        self.build_path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(self.build_path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)

    def swap_docs(self, staging: Path) -> None:
        """Make the Data Docs written into `staging` the build's."""
        with self.docs_lock():
            shutil.rmtree(self.build_docs_path, ignore_errors=True)
            os.replace(staging, self.build_docs_path)

    def remove_dead_stagings(self) -> None:
        """Data Docs that checks killed mid-way on this machine left; those of live processes, and of
        other machines, stay."""
        prefix = f"{self.build_docs_path.name}.{socket.gethostname()}-"
        for staging in self.build_path.parent.glob(f"{prefix}*.*"):
            pid = staging.name.removeprefix(prefix).split(".")[0]
            if not (pid.isdigit() and lake.process_lives(int(pid))):
                shutil.rmtree(staging, ignore_errors=True)

    @property
    def sets_path(self) -> Path:
        """Complete published sets, one folder each: database, Parquet, report, charts, Data Docs. Lake mode keeps
        its own (`detour.lake.sets`), so a lake run in the folder of an embedded warehouse never removes the set
        `detour.duckdb` links into."""
        return self.published_path.with_name(f"{self.published_path.stem}{self.mode_suffix}.sets")

    @property
    def current_path(self) -> Path:
        """The link naming the current set: publishing swaps it with one rename (one per mode, as the sets)."""
        return self.published_path.with_name(f"{self.published_path.stem}{self.mode_suffix}.current")

    @property
    def mode_suffix(self) -> str:
        return ".lake" if self.lake else ""

    def publish(self, run_id: str, write_extras, verify=None, checked: int | None = None) -> None:
        """Publish the build as one set: a copy of the build file, then `write_extras(connection, folder)`
        (Parquet, report) on that copy and the build's Data Docs, in a new folder; one rename of the
        `current` link makes the whole set current at once. The paths clients use (the warehouse file,
        parquet/, report.html, charts/, docs/) are links through `current`, so they always show one
        complete set: a kill at any moment leaves the previous set or the new one, and the next publish
        removes what a killed one left. In lake mode the published catalog takes the build's tables in
        one transaction first (one snapshot, current at once) unless `verify` finds a reason not to
        (lake.NotNow) or another run wrote since this run's checks read snapshot `checked`
        (lake.Superseded); the set, written from that snapshot, holds the rest and attach.sql. One
        publish at a time (docs_lock): in lake mode runs publish concurrently, and the sets must become
        current in the order of the snapshots they show."""
        with self.docs_lock():
            self.publish_set(run_id, write_extras, verify, checked)

    def publish_set(self, run_id: str, write_extras, verify, checked: int | None) -> None:
        name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{run_id[:8]}"
        folder = self.sets_path / name
        if self.lake:
            with self.connect() as con:
                snapshot = lake.publish(con, self.lake, Path(self.lake_data), run_id, checked, verify or (lambda con: None))
            folder.mkdir(parents=True)
            client_sql = folder / self.client_sql_path.name
            client_sql.touch(mode=0o600)  # it holds the catalog's password
            client_sql.write_text(lake.client_sql(self.lake))
            with self.read_published(snapshot) as con:
                write_extras(con, folder)
            entries = (client_sql.name, *PUBLISHED_ENTRIES)
        else:
            with self.connect() as con:
                con.execute("CHECKPOINT")
            folder.mkdir(parents=True)
            database = folder / self.published_path.name
            shutil.copyfile(self.build_path, database)
            with open(database, "rb+") as f:
                os.fsync(f.fileno())
            with open_read_only(database) as con:
                write_extras(con, folder)
            entries = (self.published_path.name, *PUBLISHED_ENTRIES)
        if self.build_docs_path.is_dir():
            shutil.copytree(self.build_docs_path, folder / "docs")
        relink(self.current_path, Path(self.sets_path.name) / name)
        for entry in entries:
            relink(self.published_path.with_name(entry), Path(self.current_path.name) / entry)
        for old in self.sets_path.iterdir():  # earlier sets and what killed publishes left
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        self.remove_dead_stagings()


PUBLISHED_ENTRIES = ("parquet", "docs", "report.html", "charts")  # beside the warehouse file, through `current`
RUN_ID_META = re.compile(r'<meta name="detour-run-id" content="([^"]*)">')


def run_id_meta(run_id: str) -> str:
    """The <head> tag naming the run that wrote a page of a set (report.html, docs/index.html), so a
    check can tell the pages of one set from another's."""
    return f'<meta name="detour-run-id" content="{html.escape(run_id)}">'


def run_id_of_page(page: Path) -> str | None:
    found = RUN_ID_META.search(page.read_text(encoding="utf-8"))
    return html.unescape(found.group(1)) if found else None


def relink(link: Path, target: Path) -> None:
    """Point `link` at `target` with one rename (atomic); a file or folder of the old layout is replaced."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.exists() and not link.is_symlink():  # before sets: a plain file or folder, replaced once
        shutil.rmtree(link) if link.is_dir() else link.unlink()
    staged = link.with_name(link.name + ".linking")
    staged.unlink(missing_ok=True)
    staged.symlink_to(target)
    os.replace(staged, link)
