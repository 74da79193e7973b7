"""Dagster's SQLite history (the embedded default) kept open for the length of a `make run`.

Dagster's SQLite event log opens a new connection for each event and closes it after one commit. In
WAL mode the last connection to a file that closes checkpoints it and deletes its -wal and -shm files,
so every event cost a checkpoint, two unlinks and syncs of the file and its folder: one `make run`
made 7,700 syncs and 4,300 unlinks for 780 events (strace). One idle connection held to each history
file keeps the others from being the last, so the WAL stays between events and is merged by SQLite's
automatic checkpoints (every 1,000 pages) and when the run ends. On those connections
synchronous=NORMAL, SQLite's setting for WAL, syncs at checkpoints instead of at each commit: a power
cut may lose a run's last events, never corrupt the file, and a crashed process loses nothing.
"""

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own SQLite connections wait


@contextmanager
def history_held_open() -> Iterator[None]:
    """While open, every SQLite file that SQLAlchemy connects to in this process stays open."""
    held: dict[str, sqlite3.Connection] = {}
    lock = threading.Lock()

    def on_connect(connection, _record) -> None:
        if not isinstance(connection, sqlite3.Connection):
            return
        try:
            path = connection.execute("PRAGMA database_list").fetchone()[2]
            if not path:  # an in-memory database
                return
            if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                connection.execute("PRAGMA synchronous=NORMAL")
            with lock:
                if path not in held:
                    held[path] = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, check_same_thread=False)
                # read again on each connection: Dagster turns WAL on after creating a file, and only a
                # connection that has read in WAL mode holds the lock that keeps other closes from checkpointing
                held[path].execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.Error as error:  # a saving, never a reason for Dagster's write to fail
            logging.getLogger(__name__).warning("Dagster's history file not held open: %s", error)

    event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", on_connect)
        with lock:
            for connection in held.values():
                connection.close()
