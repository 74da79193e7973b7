"""Runs over some months: refreshing one month after its file changed rewrites that month only and
gives the same warehouse as a full rebuild; a run writes one materialization per asset, whatever its months."""

import dagster as dg
import duckdb

from tests.conftest import materialize
from tests.seededit import read_rows, write_rows

MONTH = "2022-06"
BY_MONTH = ["core.trade_flows", "core.routed_flows", "core.flow_sanctions", "core.route_sanctions",
               "marts.channel_mix", "marts.corridor_flows", "marts.sanctioned_exposure"]
WHOLE = ["marts.bilateral_balance", "marts.transshipment_signals", "marts.route_risk", "marts.claims_check"]
VOLATILE = {"run_id"}  # differs between runs by design


def ge_descriptions(build) -> dict[str, str]:
    """The Great Expectations check's description of each asset it checked, by table."""
    return {".".join(e.event_specific_data.asset_key.path): e.event_specific_data.description
            for e in build.result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == "great_expectations"}


def columns(con, table: str) -> str:
    """The columns to compare; sums of doubles depend on summation order, so they are rounded."""
    schema, name = table.split(".")
    rows = con.execute(
        """SELECT column_name, data_type FROM duckdb_columns()
           WHERE database_name = 'a' AND schema_name = ? AND table_name = ? ORDER BY column_index""",
        [schema, name],
    ).fetchall()
    return ", ".join(f"round({c}, 4)" if t == "DOUBLE" else c for c, t in rows if c not in VOLATILE)


def differences(a, b, table: str, where: str = "true") -> int:
    """Rows of `table` in one warehouse and not the other (both ways, with multiplicity)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        cols = columns(con, table)
        sql = f"""SELECT (SELECT count(*) FROM (SELECT {cols} FROM a.{table} WHERE {where} EXCEPT ALL SELECT {cols} FROM b.{table} WHERE {where}))
                       + (SELECT count(*) FROM (SELECT {cols} FROM b.{table} WHERE {where} EXCEPT ALL SELECT {cols} FROM a.{table} WHERE {where}))"""
        return con.execute(sql).fetchone()[0]


def test_a_monthly_refresh_rewrites_its_month_only_and_equals_a_full_rebuild(seeds, tmp_path):
    incremental = tmp_path / "incremental" / "detour.duckdb"
    assert materialize(seeds, incremental).result.success
    before = tmp_path / "before.duckdb"
    before.write_bytes(incremental.read_bytes())

    header, rows = read_rows(seeds / "trade_flows" / f"{MONTH}.csv")
    rows = rows[:-40]  # forty flows withdrawn
    rows[0]["value"] = str(float(rows[0]["value"]) * 3)  # one revised
    write_rows(seeds / "trade_flows" / f"{MONTH}.csv", header, rows)

    refresh = materialize(seeds, incremental, month=MONTH)
    assert refresh.result.success
    materialized = [e.asset_key for e in refresh.result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]
    # one event per asset (not one per asset and month), none of them partitioned
    assert len(materialized) == len(set(materialized)) and ["core", "trade_flows"] in [k.path for k in materialized]
    assert {e.partition for e in refresh.result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"} == {None}
    # the marts kept by month are checked on the month the run rebuilt (a row of their audit query), the others whole
    checked = ge_descriptions(refresh)
    for mart in ("marts.channel_mix", "marts.corridor_flows", "marts.sanctioned_exposure"):
        assert f"months {MONTH}..{MONTH} (the months this run rebuilt)" in checked[mart], checked[mart]
    assert "months" not in checked["marts.route_risk"] and "months" not in checked["marts.transshipment_signals"]

    full = tmp_path / "full" / "detour.duckdb"
    assert materialize(seeds, full).result.success

    for table in BY_MONTH + WHOLE:
        assert differences(incremental, full, table) == 0, table
    in_month = f"period = DATE '{MONTH}-01'"
    for table in BY_MONTH[:4]:
        assert differences(before, incremental, table, f"NOT ({in_month})") == 0, f"{table} changed outside {MONTH}"
        assert differences(before, incremental, table, in_month) > 0, f"{table} did not change in {MONTH}"


def test_a_full_refresh_that_never_finished_is_neither_built_on_nor_published(seeds, tmp_path, monkeypatch):
    import pipeline.assets.core
    from pipeline.run import failures

    warehouse = tmp_path / "warehouse" / "detour.duckdb"
    build = warehouse.with_name("detour.build.duckdb")
    assert materialize(seeds, warehouse).result.success
    published = warehouse.resolve().read_bytes()

    # one file per batch, each committed; the last month's file has lost its value column, so its batch fails
    # the step after every earlier month was committed: a full refresh stopped half way, as a kill leaves it
    monkeypatch.setattr(pipeline.assets.core, "BATCH_BYTES", 1)
    last = sorted((seeds / "trade_flows").glob("*.csv"))[-1]
    good = last.read_text()
    header, rows = read_rows(last)
    kept = [c for c in header if c != "value"]
    write_rows(last, kept, [{c: r[c] for c in kept} for r in rows])
    stopped = materialize(seeds, warehouse)
    assert not stopped.result.success
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("SELECT table_name, run_id FROM quality.unfinished_refresh").fetchall() == [
            ("core.trade_flows", stopped.result.run_id)]
        assert con.execute("SELECT count(*) FROM core.trade_flows WHERE period = DATE '2019-01-01'").fetchone()[0] > 0  # months before it stayed

    # a month's refresh would stand on the part-built table: it stops, naming the unfinished run and the way out
    last.write_text(good)
    month = materialize(seeds, warehouse, month=MONTH)
    (message,) = failures(month.result)
    assert message.startswith("core__trade_flows: core.trade_flows: the full refresh of run " + stopped.result.run_id[:8])
    assert "did not finish" in message and "make run" in message

    # nor does a publish on its own (as publish_on_change would start after a mart rebuilt alone)
    publish = materialize(seeds, warehouse, selection=[dg.AssetKey(["published_warehouse"])])
    (message,) = failures(publish.result)
    assert message.startswith("published_warehouse: Nothing published. core.trade_flows: the full refresh")
    assert warehouse.resolve().read_bytes() == published  # readers still see the last good set

    # a full refresh that finishes makes the build whole again
    assert materialize(seeds, warehouse).result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quality.unfinished_refresh").fetchone()[0] == 0


def test_a_monthly_refresh_after_a_reference_change_rebuilds_every_month_it_affects(seeds, tmp_path):
    incremental = tmp_path / "incremental" / "detour.duckdb"
    assert materialize(seeds, incremental).result.success
    header, rows = read_rows(seeds / "fx_rates.csv")
    # the ruble of March 2019, far from the month refreshed: one rate revised by a tenth
    revised = [{**r, "usd_per_unit": str(float(r["usd_per_unit"]) * 1.1)} if (r["currency"], r["date"]) == ("RUB", "2019-03-01")
               else r for r in rows]
    assert revised != rows
    write_rows(seeds / "fx_rates.csv", header, revised)

    refresh = materialize(seeds, incremental, month=MONTH)
    assert refresh.result.success
    full = tmp_path / "full" / "detour.duckdb"
    assert materialize(seeds, full).result.success
    # a mart the run rebuilt whole is checked whole
    assert all("months" not in text for text in ge_descriptions(refresh).values())
    # no month keeps the old rate: the refresh of one month rebuilt them all, as the full refresh does
    for table in BY_MONTH + WHOLE:
        assert differences(incremental, full, table) == 0, table
    with duckdb.connect(str(incremental), read_only=True) as con:
        ((rate,),) = con.execute("SELECT DISTINCT fx_usd_per_unit FROM core.trade_flows WHERE currency = 'RUB' "
                                 "AND period = DATE '2019-03-01' AND fx_rate_type = 'official'").fetchall()
    assert abs(rate - float(next(r for r in revised if (r["currency"], r["date"]) == ("RUB", "2019-03-01"))["usd_per_unit"])) < 1e-12


def test_a_month_of_the_baseline_years_rebuilds_transshipment_signals_whole(seeds, tmp_path):
    incremental = tmp_path / "incremental" / "detour.duckdb"
    assert materialize(seeds, incremental).result.success
    before = tmp_path / "before.duckdb"
    before.write_bytes(incremental.read_bytes())
    header, rows = read_rows(seeds / "trade_flows" / "2020-06.csv")
    write_rows(seeds / "trade_flows" / "2020-06.csv", header, [{**r, "value": str(float(r["value"]) * 3)} for r in rows])

    assert materialize(seeds, incremental, month="2020-06").result.success
    full = tmp_path / "full" / "detour.duckdb"
    assert materialize(seeds, full).result.success
    assert differences(incremental, full, "marts.transshipment_signals") == 0
    # 2023's growth is measured against the 2019–2021 baseline, which June 2020 is part of: a run of that month
    # that rewrote its own year only would have kept 2023's old growth
    assert differences(before, incremental, "marts.transshipment_signals", "year = 2023") > 0


def test_transshipment_signals_measured_against_other_baseline_years_are_rebuilt_whole(seeds, tmp_path):
    warehouse = tmp_path / "warehouse" / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    config = {"ops": {"marts__transshipment_signals": {"config": {"baseline_first_year": 2019, "baseline_last_year": 2020}}}}
    rerun = materialize(seeds, warehouse, month=MONTH, selection=[dg.AssetKey(["marts", "transshipment_signals"])],
                        run_config=config)
    assert rerun.result.success
    with duckdb.connect(str(warehouse.with_name("detour.build.duckdb")), read_only=True) as con:
        by_baseline = con.execute("SELECT baseline_years, count(DISTINCT year) FROM marts.transshipment_signals GROUP BY ALL").fetchall()
    # every year was measured again against 2019–2020, not only 2022: no table mixes two baselines
    assert by_baseline == [("2019–2020", 6)], by_baseline


def test_a_run_naming_months_outside_the_data_or_unreadable_fails_naming_its_tag(seeds, tmp_path):
    from pipeline.months import MONTHS_TAG

    only_flows = [dg.AssetKey(["core", "trade_flows"])]
    for months, expect in (("2031-01", "the months must lie within 2017-01..2024-12"),  # no file names that month
                           ("2022-13", "the months must lie within 2017-01..2024-12"),
                           ("2022-06..2022-03", "the months must lie within"),  # backwards
                           ("June 2022", "write the months as YYYY-MM or YYYY-MM..YYYY-MM")):
        build = materialize(seeds, tmp_path / str(len(months)) / "detour.duckdb", selection=only_flows, tags={MONTHS_TAG: months})
        (failure,) = build.failures()
        assert failure.startswith(f"run tag {MONTHS_TAG}={months!r}: ") and expect in failure, failure


def test_the_first_month_is_set_as_a_month_or_a_date_of_it_and_anything_else_is_named(monkeypatch):
    from pipeline import settings

    for value, first in (("2016-01", "2016-01-01"), ("2016-03-15", "2016-03-01"), ("", "2017-01-01")):
        monkeypatch.setenv("DETOUR_FIRST_MONTH", value)
        assert settings.first_month() == first  # a month as the README and `--months` write it, or a date in it
    monkeypatch.setenv("DETOUR_FIRST_MONTH", "Jan 2016")
    try:
        settings.first_month()
    except ValueError as err:
        assert str(err) == "DETOUR_FIRST_MONTH='Jan 2016': write the first month as YYYY-MM (e.g. 2017-01)"
    else:
        raise AssertionError("an unreadable DETOUR_FIRST_MONTH was accepted")
