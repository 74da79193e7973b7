"""Shared fixtures: copies of the shipped seeds, and real Dagster runs into real DuckDB files."""

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED_SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"


@dataclass
class Build:
    seeds: Path
    warehouse: Path
    result: dg.ExecuteInProcessResult

    def query(self, sql: str, params=None, published: bool = True) -> list[tuple]:
        path = self.warehouse if published else self.warehouse.with_name("detour.build.duckdb")
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def failure(self, step_key: str) -> str:
        for event in self.result.all_events:
            if event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_key == step_key:
                data = event.step_failure_data
                return data.user_failure_data.description if data.user_failure_data else data.error.message
        raise AssertionError(f"step {step_key} did not fail")

    def failures(self) -> list[str]:
        """Every failed step's message."""
        return [
            (e.step_failure_data.user_failure_data.description if e.step_failure_data.user_failure_data
             else e.step_failure_data.error.message)
            for e in self.result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ]

    def succeeded(self, step_key: str) -> bool:
        return any(
            e.event_type == dg.DagsterEventType.STEP_SUCCESS and e.step_key == step_key for e in self.result.all_events
        )


def materialize(
    seeds: Path, warehouse: Path, instance: dg.DagsterInstance | None = None, month: str | None = None,
    selection: list[dg.AssetKey] | None = None, tags: dict[str, str] | None = None, run_config: dict | None = None,
) -> Build:
    """One real Dagster run of every asset (or of `selection`), in process, into `warehouse` (and its
    build file): every month, or only `month` (YYYY-MM) of the tables kept by month."""
    from pipeline.definitions import defs
    from pipeline.months import month_tags
    from pipeline.resources import SeedsFolder
    from pipeline.storage.warehouse import Warehouse

    assets = [*defs.assets, *defs.asset_checks]
    result = dg.materialize(
        assets,
        selection=selection,
        resources={"warehouse": Warehouse(path=str(warehouse)), "seeds": SeedsFolder(path=str(seeds))},
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags={**(month_tags(month, month) if month else {}), **(tags or {})},
        run_config=run_config,
    )
    return Build(seeds=seeds, warehouse=warehouse, result=result)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the shipped seeds, free to edit."""
    return Path(shutil.copytree(SHIPPED_SEEDS, tmp_path / "seeds"))


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory) -> Build:
    """The shipped seeds built once for the session (read-only use)."""
    return materialize(SHIPPED_SEEDS, tmp_path_factory.mktemp("shipped") / "detour.duckdb")


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL of the tests' own (make lake-up's), in a folder the server's user can reach (pytest's
    are private to root): its folder and the environment lake-up prints."""
    from pipeline.storage import local_postgres

    try:
        local_postgres.server_binary("initdb")
    except local_postgres.LocalPostgresError as error:
        if os.environ.get("DETOUR_REQUIRE_POSTGRES"):
            pytest.fail(str(error))
        pytest.skip(f"{error} — team-mode tests skipped")
    folder = Path(tempfile.mkdtemp(prefix="detour-pg-"))
    folder.chmod(0o755)
    try:
        yield folder, local_postgres.up(folder)
    finally:
        local_postgres.down(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the real public data files live beside the repository, not in it")
    return SHARED_DATA


@pytest.fixture(scope="session")
def reference(shipped_build, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """The shipped reference tables, read-only, as the assets see them when they check rows."""
    copy = tmp_path_factory.mktemp("reference") / "detour.duckdb"
    shutil.copy(shipped_build.warehouse.resolve(), copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        yield con


def check_file(seeds: Path, relative: str, con: duckdb.DuckDBPyConnection):
    """What the file's asset does with it: the trade-flow asset's rules for a trade-flow file."""
    from pipeline.assets.core import seed_file_rules
    from pipeline.assets.ingest import read_and_check
    from schemas import SEEDS, TRADE_FLOWS

    if relative.startswith(TRADE_FLOWS.path + "/"):
        return read_and_check(TRADE_FLOWS, seeds, con, [seeds / relative], seed_file_rules(con))[1]
    seed = next(s for s in SEEDS.values() if s.path == relative)
    return read_and_check(seed, seeds, con)[1]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Playwright, offline (tests/browser.py)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import OFFLINE_FLAGS, chromium

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=OFFLINE_FLAGS)
        yield browser
        browser.close()
