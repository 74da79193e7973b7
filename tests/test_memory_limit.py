"""DETOUR_DUCKDB_MEMORY holds every DuckDB connection of a run, read-only ones too: DuckDB's own default
is 80% of the machine's memory, and the publish's Parquet export of a 100M-flow build took 1.3 GB past it."""

import shutil

import pytest

from pipeline.assets.publish import PUBLISHED_MARTS, export_parquet
from pipeline.storage.warehouse import Warehouse, open_read_only


@pytest.fixture
def build(shipped_build, tmp_path):
    copy = tmp_path / "detour.duckdb"
    shutil.copy(shipped_build.warehouse.resolve(), copy)
    return copy


def test_the_build_and_read_only_connections_take_the_setting(build, monkeypatch):
    monkeypatch.setenv("DETOUR_DUCKDB_MEMORY", "300MB")
    with open_read_only(build) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"
    shutil.copy(build, build.with_name("detour.build.duckdb"))
    con = Warehouse(path=str(build)).open_build()
    try:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"
    finally:
        con.close()


def test_the_parquet_export_completes_within_a_small_limit_and_leaves_no_spill_folder(build, tmp_path, monkeypatch):
    monkeypatch.setenv("DETOUR_DUCKDB_MEMORY", "40MB")
    with open_read_only(build) as con:
        export_parquet(con, tmp_path / "parquet")
        exported = {name: con.execute("SELECT count(*) FROM read_parquet(?)", [str(tmp_path / "parquet" / f"{name}.parquet")]).fetchone()[0]
                    for name in PUBLISHED_MARTS}
        assert exported == {name: con.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0] for name in PUBLISHED_MARTS}
    assert not build.with_name("detour.duckdb.tmp").exists()
