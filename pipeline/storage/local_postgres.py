"""`make lake-up` / `make lake-down`: a local PostgreSQL for running Detour as a team would, on one machine.

    python -m pipeline.storage.local_postgres up [--dir .lake]     # prints the lines to paste (export ...)
    python -m pipeline.storage.local_postgres down [--dir .lake]

Debian's PostgreSQL server (package `postgresql`) in a folder of its own: initdb into DIR/pgdata, on
127.0.0.1 only (no Unix socket), on a free port, for the role `detour` with a random password kept in
DIR/password (readable by its owner only) and written into the printed URLs. It holds the databases
`dagster`, where Dagster keeps runs, events and schedules (deploy/dagster.team.yaml, linked as
DIR/dagster_home/dagster.yaml), and `lake`, the DuckLake catalogs of the warehouse in lake mode, whose
Parquet files go under DIR/data. PostgreSQL refuses to run as root: as root, the server runs as the
`postgres` user, which then owns DIR/pgdata.
"""

import argparse
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEAM_INSTANCE = REPO / "deploy" / "dagster.team.yaml"
DEFAULT_DIR = REPO / ".lake"
DATABASES = ("dagster", "lake")
SERVER_USER = "postgres"  # who runs the server when we are root
ROLE = "detour"
INSTALL_HINT = "PostgreSQL's server is not installed: apt-get install postgresql"


class LocalPostgresError(RuntimeError):
    pass


def server_bin_dir() -> Path:
    """Debian keeps initdb and pg_ctl out of PATH, under /usr/lib/postgresql/<major>/bin: the newest major
    version there, else the folder of pg_ctl on PATH. Every binary comes from that one folder."""
    debian = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    if debian:
        return Path(max(debian, key=lambda p: int(re.sub(r"\D.*", "", Path(p).parts[-3]) or 0))).parent
    if on_path := shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    raise LocalPostgresError(f"pg_ctl not found. {INSTALL_HINT}")


def server_binary(name: str) -> str:
    found = server_bin_dir() / name
    if not found.exists():
        raise LocalPostgresError(f"{found} not found. {INSTALL_HINT}")
    return str(found)


def as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def run(command: list[str], what: str, password: str | None = None) -> str:
    env = {**os.environ, "PGPASSWORD": password} if password else None
    try:
        done = subprocess.run(as_server_user(command), capture_output=True, text=True, env=env)
    except OSError as error:  # runuser or the binary itself missing
        raise LocalPostgresError(f"{what} failed: {error}") from None
    if done.returncode != 0:
        raise LocalPostgresError(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def previous_port(folder: Path) -> int | None:
    """The port of the last start, if it is free: the exported URLs stay valid across restarts."""
    if not (folder / "port").exists():
        return None
    port = int((folder / "port").read_text())
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds: a just-closed port is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
    return port


def urls(folder: Path) -> dict[str, str]:
    """SQLAlchemy URLs naming the driver installed with dagster-postgres (SQLAlchemy 2.1 takes a bare
    postgresql:// to mean psycopg 3, which is not installed)."""
    port, password = int((folder / "port").read_text()), (folder / "password").read_text()
    return {db: f"postgresql+psycopg2://{ROLE}:{password}@127.0.0.1:{port}/{db}" for db in DATABASES}


def exports(folder: Path) -> dict[str, str]:
    """What a shell needs to use the local server: Dagster's instance in PostgreSQL and the warehouse as
    a DuckLake (libpq takes the URL without SQLAlchemy's driver name)."""
    found = urls(folder)
    return {
        "DETOUR_DAGSTER_PG": found["dagster"],
        "DAGSTER_HOME": str(folder / "dagster_home"),
        "DETOUR_LAKE": found["lake"].replace("postgresql+psycopg2://", "postgresql://"),
        "DETOUR_LAKE_DATA": str(folder / "data"),
    }


def is_running(folder: Path) -> bool:
    pgdata = folder / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    return subprocess.run(as_server_user([server_binary("pg_ctl"), "status", "-D", str(pgdata)]),
                          capture_output=True).returncode == 0


def hand_to_server_user(folder: Path) -> None:
    """As root: the server's user must own the folder and reach it through every parent folder."""
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise LocalPostgresError(f"no user {SERVER_USER!r} to run the server as (PostgreSQL refuses root). {INSTALL_HINT}") from None
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    if subprocess.run(as_server_user(["test", "-w", str(folder)])).returncode != 0:
        raise LocalPostgresError(
            f"the user {SERVER_USER!r} cannot reach {folder}: a parent folder is closed to others "
            "(chmod o+x it, or give --dir a folder elsewhere)"
        )


def create(folder: Path) -> None:
    """initdb with a random password for the role, kept in DIR/password."""
    password = secrets.token_urlsafe(18)
    pwfile = folder / "pwfile"
    pwfile.write_text(password)
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(pwfile, SERVER_USER)
    try:
        run([server_binary("initdb"), "-D", str(folder / "pgdata"), "-U", ROLE, "--auth=scram-sha-256",
             f"--pwfile={pwfile}", "-E", "UTF8", "--no-instructions"], "initdb")
    finally:
        pwfile.unlink()
    (folder / "password").touch(mode=0o600)
    (folder / "password").write_text(password)


def up(folder: Path = DEFAULT_DIR) -> dict[str, str]:
    """Start the server (creating it the first time) and return the environment to use it."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        hand_to_server_user(folder)
    if not (folder / "pgdata").exists():
        create(folder)
    if not is_running(folder):
        port = previous_port(folder) or free_port()
        (folder / "port").write_text(str(port))
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
        run([server_binary("pg_ctl"), "start", "-D", str(folder / "pgdata"), "-w", "-t", "60",
             "-l", str(folder / "server.log"), "-o", options], f"starting PostgreSQL (log: {folder / 'server.log'})")
    port, password = (folder / "port").read_text(), (folder / "password").read_text()
    for db in DATABASES:
        listed = run([server_binary("psql"), "-h", "127.0.0.1", "-p", port, "-U", ROLE, "-d", "postgres", "-tAc",
                      f"SELECT 1 FROM pg_database WHERE datname = '{db}'"], "listing databases", password)
        if not listed.strip():
            run([server_binary("createdb"), "-h", "127.0.0.1", "-p", port, "-U", ROLE, db], f"creating database {db}", password)
    home = folder / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").unlink(missing_ok=True)
    (home / "dagster.yaml").symlink_to(TEAM_INSTANCE)
    return exports(folder)


def down(folder: Path = DEFAULT_DIR) -> bool:
    """Stop the server if it runs; its data stays in DIR/pgdata for the next `up`. True if it was running."""
    folder = folder.resolve()
    if not is_running(folder):
        return False
    run([server_binary("pg_ctl"), "stop", "-D", str(folder / "pgdata"), "-m", "fast", "-w"], "stopping PostgreSQL")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"server folder (default {DEFAULT_DIR.name}/)")
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            env = up(args.dir)
            print("# PostgreSQL for Detour runs on 127.0.0.1; paste these lines into your shell:")
            for name, value in env.items():
                print(f"export {name}={value}")
        else:
            print("stopped" if down(args.dir) else "not running")
    except LocalPostgresError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
