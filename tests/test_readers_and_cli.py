"""SQL clients and the command line: a reader holding the published file open never blocks a
refresh; `detour-run` builds from the seeds and warehouse it is pointed at and touches nothing else."""

import os
import re
import subprocess
import sys
import textwrap

import duckdb
from pathlib import Path

from pipeline.sample_flows import write as write_sample
from tests.conftest import REPO, SHIPPED_SEEDS, materialize
from tests.seededit import read_rows, write_rows

READER = textwrap.dedent(
    """
    import sys, duckdb
    TOTALS = "SELECT (SELECT sum(value_usd) FROM core.trade_flows)::VARCHAR || '/' || (SELECT sum(value_usd) FROM marts.channel_mix)::VARCHAR"
    held = duckdb.connect(sys.argv[1], read_only=True)  # held open across every refresh
    for _ in sys.stdin:
        print(held.execute(TOTALS).fetchone()[0], flush=True)
    held.close()
    print(duckdb.connect(sys.argv[1], read_only=True).execute(TOTALS).fetchone()[0], flush=True)  # reconnected
    """
)
TOTALS = READER.split('TOTALS = ')[1].split('\n')[0].strip().strip('"')


def complete_build_totals(warehouse) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(TOTALS).fetchone()[0]


def test_a_reader_holding_the_warehouse_open_never_blocks_three_refreshes(seeds, tmp_path):
    warehouse = tmp_path / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    first = complete_build_totals(warehouse)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    builds = []
    try:
        for month in ("2024-10", "2024-11", "2024-12"):
            reader.stdin.write("query\n")
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == first  # its snapshot: the complete build it opened
            header, rows = read_rows(seeds / "trade_flows" / f"{month}.csv")
            write_rows(seeds / "trade_flows" / f"{month}.csv", header, rows[:10])

            refresh = materialize(seeds, warehouse, month=month)

            assert refresh.result.success, month
            builds.append(complete_build_totals(warehouse))  # what a new connection sees now
        out, _ = reader.communicate("query\n", timeout=60)
    finally:
        reader.kill()
    held, reconnected = out.split()
    assert held == first
    assert reconnected == builds[-1] and len(set([first, *builds])) == 4  # every refresh published a new build


def test_detour_run_builds_from_the_given_paths_and_prints_a_summary(seeds, tmp_path):
    warehouse = tmp_path / "elsewhere" / "w.duckdb"
    env = {
        **os.environ,
        "DETOUR_SEEDS_DIR": str(seeds),
        "DETOUR_WAREHOUSE": str(warehouse),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    before = sorted(p.name for p in REPO.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trade_flows" in done.stdout and "100135" in done.stdout and "quarantined" in done.stdout
    assert f"tables in {warehouse}" in done.stdout
    assert_shows_the_readme_sample(done.stdout, warehouse)
    assert warehouse.exists()
    assert sorted(p.name for p in REPO.iterdir()) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [
        "charts", "docs", "parquet", "report.html", "w.build.duckdb", "w.build.duckdb.docs", "w.current", "w.duckdb", "w.sets"
    ]
    (published_set,) = (warehouse.parent / "w.sets").iterdir()  # one complete set, everything else links into it
    assert sorted(p.name for p in published_set.iterdir()) == ["charts", "docs", "parquet", "report.html", "w.duckdb"]
    for name in ("charts", "docs", "parquet", "report.html", "w.duckdb"):
        assert (warehouse.parent / name).resolve() == published_set / name

    # the run is in the UI's history; one planned and one materialization event per asset, however many months
    # (each event is a SQLite commit: 505 materializations when the assets were partitioned by month)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        (run,) = instance.get_runs()
        for kind in (dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, dg.DagsterEventType.ASSET_MATERIALIZATION):
            records = instance.get_records_for_run(run.run_id, of_type=kind, limit=10_000).records
            keys = [r.event_log_entry.dagster_event.asset_key for r in records]
            assert len(keys) == len(set(keys)) and dg.AssetKey(["core", "trade_flows"]) in keys, kind


def test_detour_run_names_the_broken_file_and_exits_non_zero(seeds, tmp_path):
    (seeds / "corridors.csv").write_text("corridor_id,name\n", encoding="utf-8")
    env = {
        **os.environ,
        "DETOUR_SEEDS_DIR": str(seeds),
        "DETOUR_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    done = subprocess.run([sys.executable, "-m", "pipeline.run"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert f"{seeds / 'corridors.csv'}: missing column(s): branch" in done.stdout
    assert "Traceback" not in done.stdout


def test_the_shipped_sample_is_exactly_what_its_script_writes(tmp_path):
    out = tmp_path / "flows"
    write_sample(out)
    shipped = sorted((SHIPPED_SEEDS / "trade_flows").glob("*.csv"))
    assert [p.name for p in shipped] == sorted(p.name for p in out.glob("*.csv"))
    for path in shipped:
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_sample_says_it_is_illustrative_and_the_real_rows_credit_their_publishers(shipped_build):
    sources = dict(shipped_build.query(
        "SELECT DISTINCT split_part(source_file, '/', 1), source FROM core.trade_flows WHERE data_status = ?", ["illustrative"]
    ))
    assert list(sources) == ["trade_flows"] and "illustrative" in sources["trade_flows"]
    ((real,),) = shipped_build.query("SELECT list(DISTINCT source ORDER BY source) FROM core.trade_flows WHERE data_status = 'real'")
    assert real == ["CEPII, BACI (Gaulier & Zignago 2010), release V202501",
                    "Eurostat, Comext DS-045409 (EU trade since 1988 by HS2-4-6 and CN8), data browser download"]
    assert Path(SHIPPED_SEEDS / "trade_flows").is_dir()


def assert_shows_the_readme_sample(printed: str, warehouse: Path) -> None:
    """Every line of the README's sample `make run` output appears, in order, in a real run's output
    ("..." stands for lines left out; step times and peak memory are any figure)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    sample = readme.split("then what happened:\n\n```\n", 1)[1].split("```", 1)[0]
    lines = iter(printed.splitlines())
    for line in sample.splitlines():
        if line == "...":
            continue
        figure = r" *\d+\.\d|\d[\d,]*(?= MB\))"  # seconds, and the MB of "(peak RSS 1,233 MB)"
        parts = re.split(figure, line.replace("/path/to/warehouse/detour.duckdb", str(warehouse)))
        pattern = f"(?:{figure})".join(map(re.escape, parts))
        assert any(re.fullmatch(pattern, candidate) for candidate in lines), f"README's make run sample: {line!r} not printed"


HOLDER = textwrap.dedent(
    """
    import sys
    from pipeline.storage.warehouse import Warehouse
    with Warehouse(path=sys.argv[1]).refresh_lock():
        print("held", flush=True)
        sys.stdin.readline()
    """
)


def test_a_second_refresh_of_one_warehouse_fails_at_once_naming_the_first_and_steps_of_other_runs_wait(seeds, tmp_path):
    import dagster as dg
    import pytest

    from pipeline.storage.warehouse import Warehouse

    warehouse = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {**os.environ, "DETOUR_SEEDS_DIR": str(seeds), "DETOUR_WAREHOUSE": str(warehouse),
               "DAGSTER_HOME": str(tmp_path / "dagster_home")}
        done = subprocess.run([sys.executable, "-m", "pipeline.run"], cwd=tmp_path, env=env, capture_output=True, text=True)
        # the second command changed nothing: no build file, no step run, one line naming the first
        assert done.returncode == 1 and f"another refresh (PID {holder.pid}) is running on {warehouse}" in done.stdout
        assert not Warehouse(path=str(warehouse)).build_path.exists()
        # a step of a run the daemon launched is retried later, not failed, while the refresh runs
        with pytest.raises(dg.RetryRequested):
            Warehouse(path=str(warehouse)).wait_for_refresh()
    finally:
        holder.communicate("\n")
    Warehouse(path=str(warehouse)).wait_for_refresh()  # released: nothing to wait for
