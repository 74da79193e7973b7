"""The warehouse: every run builds into a private build file; `publish` swaps a complete copy over
the published file atomically, so SQL clients holding it open read-only never block a refresh and
never see a half-built state (they keep their snapshot until they reconnect)."""

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipeline import settings

SETUP_SQL = (Path(__file__).parent / "warehouse.sql").read_text()
LOCKED = re.compile(r"Could not set lock on file.*?PID (\d+)", re.S)
POOL = "warehouse"  # every asset that writes the build file; dagster.yaml limits it to one run


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


# Views whose columns mean what their table's columns mean: they carry the same comments.
VIEWS_OF_TABLES = {"quality.load_audit_latest": ("quality", "load_audit")}
COLUMN_COMMENTS_SQL = "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? AND comment <> ''"


def comment_views(con: duckdb.DuckDBPyConnection) -> None:
    for view, table in VIEWS_OF_TABLES.items():
        for column, comment in con.execute(COLUMN_COMMENTS_SQL, list(table)).fetchall():
            con.execute(f'COMMENT ON COLUMN {view}."{column}" IS {sql_literal(comment)}')


class Warehouse(dg.ConfigurableResource):
    """The published DuckDB file (`path`) and the build file beside it that runs write to."""

    path: str

    @property
    def published_path(self) -> Path:
        return Path(self.path)

    @property
    def build_path(self) -> Path:
        published = self.published_path
        return published.with_name(f"{published.stem}.build{published.suffix or '.duckdb'}")

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-write connection to the build file, started from the published warehouse if needed."""
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
            con.execute(SETUP_SQL)
            comment_views(con)
            yield con
        finally:
            con.close()

    def open_build(self) -> duckdb.DuckDBPyConnection:
        """Open the build file and check that its catalog reads (a truncated file fails here, not mid-run)."""
        # Bounded memory: past the limit DuckDB spills to a folder beside the build file.
        con = duckdb.connect(
            str(self.build_path),
            config={"memory_limit": settings.duckdb_memory_limit(), "temp_directory": str(self.build_path) + ".tmp"},
        )
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        except duckdb.Error:
            con.close()
            raise
        return con

    def held_by(self, message: str) -> str:
        """One line for a second writer: which process holds the build file, and since when."""
        pid = LOCKED.search(message).group(1)
        started = Path(f"/proc/{pid}")
        since = f" since {dt.datetime.fromtimestamp(started.stat().st_ctime):%Y-%m-%d %H:%M:%S}" if started.exists() else ""
        return (f"another refresh (PID {pid}) holds the build file {self.build_path}{since}; this run changed nothing. "
                "Wait for it to finish, or stop it, and run again.")

    def publish(self) -> Path:
        """Checkpoint the build file and atomically replace the published file with a copy of it."""
        with self.connect() as con:
            con.execute("CHECKPOINT")
        published = self.published_path
        staged = published.with_name(published.name + ".publishing")
        shutil.copyfile(self.build_path, staged)
        with open(staged, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(staged, published)
        return published
