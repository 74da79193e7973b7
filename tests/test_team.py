"""Running it for a team: Dagster's runs, events and schedules in a real local PostgreSQL
(`make lake-up`, deploy/dagster.team.yaml), so the UI on another machine sees what a run did, and
the history outlives a restart of the server."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from pipeline.storage import local_postgres
from tests.conftest import REPO, SHIPPED_SEEDS


def embedded(env: dict[str, str]) -> dict[str, str]:
    """make lake-up's lines but the warehouse's: Dagster in PostgreSQL, the warehouse one DuckDB file."""
    return {name: value for name, value in env.items() if not name.startswith("DETOUR_LAKE")}


def runs_in(url: str) -> list[tuple]:
    """The runs table of Dagster's PostgreSQL run storage, read with psycopg2 itself."""
    with psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://")) as con, con.cursor() as cur:
        cur.execute("SELECT to_regclass('runs') IS NOT NULL")
        if not cur.fetchone()[0]:
            return []  # no run yet: Dagster creates its tables on first use
        cur.execute("SELECT run_id, status FROM runs ORDER BY create_timestamp")
        return cur.fetchall()


def test_a_runs_history_is_in_postgresql_and_another_instance_sees_it_after_a_restart(postgres, tmp_path, monkeypatch):
    folder, env = postgres
    home = Path(env["DAGSTER_HOME"])
    earlier = runs_in(env["DETOUR_DAGSTER_PG"])  # the server is the session's: other tests' runs are there too
    run = subprocess.run(
        [str(Path(sys.executable).parent / "detour-run")],
        env={**os.environ, **embedded(env), "DETOUR_SEEDS_DIR": str(SHIPPED_SEEDS), "DETOUR_WAREHOUSE": str(tmp_path / "detour.duckdb")},
        capture_output=True, text=True, cwd=REPO,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # One run more, succeeded, in PostgreSQL's own tables; nothing fell back to SQLite in DAGSTER_HOME.
    ((run_id, status),) = [run for run in runs_in(env["DETOUR_DAGSTER_PG"]) if run not in earlier]
    assert status == "SUCCESS"
    assert not list(home.rglob("*.db"))

    # The server stops and starts again (a restart of its machine): the exported URL still holds and an
    # instance opened elsewhere, as the webserver's would be, has the run and what it materialized.
    assert local_postgres.down(folder) and not local_postgres.down(folder)
    assert local_postgres.up(folder) == env
    monkeypatch.setenv("DETOUR_DAGSTER_PG", env["DETOUR_DAGSTER_PG"])
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        route_risk = instance.get_latest_materialization_event(dg.AssetKey(["marts", "route_risk"]))
        assert route_risk is not None and route_risk.run_id == run_id
        checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["core", "routed_flows"]), "totals_preserved")]
        )
        assert checks[dg.AssetCheckKey(dg.AssetKey(["core", "routed_flows"]), "totals_preserved")].run_id == run_id


def test_lake_up_prints_the_lines_to_paste_and_is_idempotent(postgres):
    folder, env = postgres
    printed = subprocess.run(
        [sys.executable, "-m", "pipeline.storage.local_postgres", "up", "--dir", str(folder)], capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    exports = [line for line in printed.stdout.splitlines() if not line.startswith("#")]
    assert exports == [f"export {name}={value}" for name, value in env.items()]
    assert (Path(env["DAGSTER_HOME"]) / "dagster.yaml").resolve() == REPO / "deploy" / "dagster.team.yaml"
    # Only the printed URL gets in: no password, no connection (the server trusts nobody), and no Unix socket.
    password = (folder / "password").read_text()
    assert oct((folder / "password").stat().st_mode & 0o777) == "0o600"
    bare = env["DETOUR_DAGSTER_PG"].replace("postgresql+psycopg2://", "postgresql://").replace(f":{password}@", "@")
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(bare)
    assert not list(folder.glob(".s.PGSQL.*"))


def test_as_root_a_folder_the_server_user_cannot_reach_is_named_before_initdb(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root hands the server to another user")
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(local_postgres.LocalPostgresError, match=r"cannot reach .*closed/pg: a parent folder is closed"):
        local_postgres.up(closed / "pg")
    assert not (closed / "pg" / "pgdata").exists()
