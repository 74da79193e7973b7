"""core.trade_flows: categories by longest HS prefix, USD values by ASOF join on FX rates."""

import shutil

import dagster as dg
import duckdb
import pytest

from pipeline.assets.ingest import accounting_check, read_and_check, record_load
from pipeline.storage.warehouse import REF_INPUTS_SQL
from schemas import SEEDS
from tests.conftest import SHIPPED_SEEDS, materialize
from tests.seededit import read_rows, write_rows

FLOWS = [  # flow_id, period, hs_code, value, currency
    ("F1", "2022-03", "854231", "1000", "USD"),  # CHPL subheading beats chapter 85
    ("F2", "2022-03", "851713", "1000", "USD"),  # chapter 85 only
    ("F3", "2022-03", "8542", "1000", "USD"),  # a heading that is no prefix itself: chapter 85
    ("F4", "2022-03", "080251", "1000", "USD"),  # pistachios beat fruit & nuts (08)
    ("F5", "2022-03", "0808100000", "1000", "USD"),  # a 10-digit tariff line: fruit & nuts
    ("F6", "2022-03", "930690", "1000", "USD"),  # chapter 93
    ("F7", "2022-02", "100199", "1000000", "IRR"),  # market rate of 2022-02 preferred over official
    ("F8", "2022-05", "100199", "500", "RUB"),  # no RUB rate for May: April's is in force
    ("F9", "2023-07", "100199", "10", "EUR"),
]


@pytest.fixture
def small_build(seeds, tmp_path, monkeypatch):
    # a few test rates, most flows on an older one by design (the rate in force): the guard would stop the publish
    monkeypatch.setenv("DETOUR_MAX_QUARANTINED_VALUE_SHARE", "1")
    header, _ = read_rows(seeds / "fx_rates.csv")
    rates = [  # date, currency, rate_type, usd_per_unit, approximate
        ("2019-01-01", "USD", "official", "1", "false"),
        ("2022-02-01", "IRR", "official", "0.0000238", "false"),
        ("2022-02-01", "IRR", "market", "0.0000035", "true"),
        ("2022-04-01", "RUB", "official", "0.0125", "true"),
        ("2022-06-01", "RUB", "official", "0.0172", "true"),
        ("2023-01-01", "EUR", "official", "1.08", "false"),
        ("2023-08-01", "EUR", "official", "1.11", "false"),
        ("2019-01-01", "CNY", "official", "0.145", "false"),
        ("2019-01-01", "AED", "official", "0.2723", "false"),
        ("2019-01-01", "XAU", "market", "1300", "true"),
        ("2019-01-01", "USDT", "market", "1", "true"),
    ]
    write_rows(seeds / "fx_rates.csv", header, [dict(zip(header, (*r[:4], "test rate", r[4]), strict=True)) for r in rates])
    for old in (seeds / "trade_flows").glob("*.csv"):
        old.unlink()
    shutil.rmtree(seeds / "imports")  # these flows only
    header = SEEDS["trade_flows"].required_columns
    rows = [
        dict(zip(header, (fid, period, "RUS", "IRN", hs, "HS2022", value, cur, "", "", "", "", "test flow", "importer_reported"), strict=True))
        for fid, period, hs, value, cur in FLOWS
    ]
    for period in {r["period"] for r in rows}:
        write_rows(seeds / "trade_flows" / f"{period}.csv", header, [r for r in rows if r["period"] == period])
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert build.result.success
    return build


def test_a_flow_takes_the_category_of_its_longest_hs_prefix(small_build):
    categories = dict(small_build.query("SELECT flow_id, category_id FROM core.trade_flows"))
    assert categories == {
        "F1": "chpl_electronics",
        "F2": "electronics",
        "F3": "electronics",
        "F4": "pistachios",
        "F5": "fruits_nuts",
        "F6": "missiles_munitions",
        "F7": "wheat_grains",
        "F8": "wheat_grains",
        "F9": "wheat_grains",
    }


def test_value_usd_uses_the_rate_in_force_for_the_period(small_build):
    rows = {
        fid: (float(usd), rate_type, str(date))
        for fid, usd, rate_type, date in small_build.query(
            "SELECT flow_id, value_usd, fx_rate_type, fx_rate_date FROM core.trade_flows"
        )
    }
    assert rows["F1"] == (1000.0, "official", "2019-01-01")
    assert rows["F7"] == (pytest.approx(3.5), "market_approximate", "2022-02-01")
    assert rows["F8"] == (pytest.approx(6.25), "official_approximate", "2022-04-01")
    assert rows["F9"] == (pytest.approx(10.8), "official", "2023-01-01")


def test_a_flow_dated_before_its_currencys_first_rate_is_kept_aside_naming_the_gap(seeds, tmp_path):
    header, rows = read_rows(seeds / "trade_flows" / "2019-01.csv")
    rows[0].update(period="2019-01", currency="XAU", value="10")
    write_rows(seeds / "trade_flows" / "2019-01.csv", header, rows)
    header, rates = read_rows(seeds / "fx_rates.csv")
    write_rows(seeds / "fx_rates.csv", header, [r for r in rates if not (r["currency"] == "XAU" and r["date"] == "2019-01-01")])
    first_xau = min(r["date"] for r in rates if r["currency"] == "XAU" and r["date"] != "2019-01-01")
    build = materialize(seeds, tmp_path / "detour.duckdb")
    # the gap costs one flow, named with its currency and month, not the whole refresh
    assert build.query(
        "SELECT row_number, column_name, rule FROM quality.quarantine WHERE source_file = 'trade_flows/2019-01.csv'"
    ) == [(2, "currency", f"no FX rate for XAU on or before 2019-01: ref.fx_rates starts it on {first_xau}")]
    assert build.succeeded("published_warehouse")
    assert build.query("SELECT count(*) FROM core.trade_flows WHERE value_usd IS NULL") == [(0,)]


def test_the_accounting_check_fails_when_a_table_lost_rows(shipped_build, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(shipped_build.warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        ((run_id,),) = con.execute("SELECT run_id FROM quality.load_audit WHERE seed = 'chpl'").fetchall()
        assert accounting_check(con, SEEDS["chpl"], "ref.chpl", run_id, 1).passed
        con.execute("DELETE FROM ref.chpl WHERE tier = '1'")
        result = accounting_check(con, SEEDS["chpl"], "ref.chpl", run_id, 1)
    assert not result.passed


def test_a_seed_reloaded_by_a_retried_step_is_recorded_once_by_its_run(shipped_build, tmp_path):
    # a lake step retried after a lost commit conflict reloads seeds its first attempt committed: two audit rows
    # of one run failed its accounting check and changed the reference inputs, so month runs rebuilt every month
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(shipped_build.warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        ((run_id,),) = con.execute("SELECT run_id FROM quality.load_audit WHERE seed = 'chpl'").fetchall()
        (inputs,) = con.execute(REF_INPUTS_SQL).fetchone()
        files, checked = read_and_check(SEEDS["chpl"], SHIPPED_SEEDS, con)
        record_load(con, SEEDS["chpl"], files, checked, run_id)
        assert con.execute("SELECT count(*) FROM quality.load_audit WHERE seed = 'chpl'").fetchone() == (1,)
        assert accounting_check(con, SEEDS["chpl"], "ref.chpl", run_id, 1).passed
        assert con.execute(REF_INPUTS_SQL).fetchone() == (inputs,)


def test_a_flow_id_in_two_files_names_both_places_and_stops_the_publish(seeds, tmp_path, monkeypatch):
    import pipeline.assets.core

    monkeypatch.setattr(pipeline.assets.core, "BATCH_BYTES", 1)  # one file per batch: no batch sees both rows
    header, may = read_rows(seeds / "trade_flows" / "2023-05.csv")
    _, june = read_rows(seeds / "trade_flows" / "2023-06.csv")
    june[3]["flow_id"] = may[0]["flow_id"]
    write_rows(seeds / "trade_flows" / "2023-06.csv", header, june)
    build = materialize(seeds, tmp_path / "detour.duckdb")
    (evaluation,) = [
        e.event_specific_data
        for e in build.result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == "unique_flow_ids"
    ]
    assert not evaluation.passed
    assert f"{may[0]['flow_id']} in trade_flows/2023-05.csv row 2 and trade_flows/2023-06.csv row 5" in evaluation.description
    assert not build.succeeded("published_warehouse")


def unique_flow_ids(build) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e.event_specific_data for e in build.result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                     and e.event_specific_data.check_name == "unique_flow_ids"]
    return evaluation


def test_a_month_run_checks_its_ids_against_other_months_and_every_id_after_a_run_left_duplicates(seeds, tmp_path):
    warehouse = tmp_path / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    header, may = read_rows(seeds / "trade_flows" / "2023-05.csv")
    _, june = read_rows(seeds / "trade_flows" / "2023-06.csv")
    write_rows(seeds / "trade_flows" / "2023-06.csv", header, [{**june[3], "flow_id": may[0]["flow_id"]}, *june])

    # June's new row repeats a May id: June's run checks June's ids against the other months' and fails
    june_run = materialize(seeds, warehouse, month="2023-06")
    assert not unique_flow_ids(june_run).passed and not june_run.succeeded("published_warehouse")
    assert f"{may[0]['flow_id']} in trade_flows/2023-05.csv row 2 and trade_flows/2023-06.csv row 2" in unique_flow_ids(june_run).description
    # July's ids are unique, but the build still holds June's duplicate: July's run checks every id, and fails
    july_run = materialize(seeds, warehouse, month="2023-07")
    assert not unique_flow_ids(july_run).passed and not july_run.succeeded("published_warehouse")
    # June mended: its run finds every id unique, so the next month's run checks its own months' ids again
    write_rows(seeds / "trade_flows" / "2023-06.csv", header, june)
    assert unique_flow_ids(materialize(seeds, warehouse, month="2023-06")).passed
    with duckdb.connect(str(warehouse.with_name("detour.build.duckdb")), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quality.unchecked_flow_ids").fetchone()[0] == 0
    assert materialize(seeds, warehouse, month="2023-07").result.success


FX_FLOWS = [  # flow_id, period, currency, file: the month an annual flow's file is named after
    ("E1", "2021-06", "EUR", "2021-06"),  # a month: the ECB monthly average
    ("E2", "2021", "EUR", "2021-01"),  # a year: the mean of its 12 ECB months
    ("E3", "2022", "EUR", "2022-01"),  # a year missing July's rate: the ASOF rule, January's
    ("E4", "2024", "EUR", "2024-01"),  # 9 ECB months and 3 approximate ones: their mean, approximate
    ("R1", "2023-05", "RUB", "2023-05"),  # after the ECB stopped RUB: the approximate rate
]


def rate(rates: list[dict], currency: str, day: str) -> float:
    (usd,) = [float(r["usd_per_unit"]) for r in rates if r["currency"] == currency and r["date"] == day]
    return usd


@pytest.fixture
def fx_build(seeds, tmp_path, monkeypatch):
    """The shipped FX rates less EUR of July 2022, and FX_FLOWS of 1000 units each."""
    monkeypatch.setenv("DETOUR_MAX_QUARANTINED_VALUE_SHARE", "1")  # July 2022's EUR flows rest on June's rate, by design
    import polars as pl

    import pipeline.assets.core as core

    # Annual flows reach core.trade_flows through importers (none in EUR on this branch): in a seed file
    # named after its year's January, an annual row passes the period rule here as an importer's would
    by_month = core.period_matches_file
    monkeypatch.setattr(core, "period_matches_file", lambda typed: by_month(typed.filter(pl.col("period").str.len_chars() == 7)))
    header, rates = read_rows(seeds / "fx_rates.csv")
    write_rows(seeds / "fx_rates.csv", header, [r for r in rates if (r["currency"], r["date"]) != ("EUR", "2022-07-01")])
    for old in (seeds / "trade_flows").glob("*.csv"):
        old.unlink()
    shutil.rmtree(seeds / "imports")
    header = SEEDS["trade_flows"].required_columns
    for fid, period, currency, file in FX_FLOWS:
        row = (fid, period, "RUS", "IRN", "100199", "HS2022", "1000", currency, "", "", "", "", "test flow", "importer_reported")
        write_rows(seeds / "trade_flows" / f"{file}.csv", header, [dict(zip(header, row, strict=True))])
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert build.result.success
    return build, rates


def test_a_month_converts_at_the_ecb_average_and_a_year_at_the_mean_of_its_months(fx_build):
    build, rates = fx_build
    rows = {
        fid: (float(usd), rate_type, str(day), frequency)
        for fid, usd, rate_type, day, frequency in build.query(
            "SELECT flow_id, value_usd, fx_rate_type, fx_rate_date, frequency FROM core.trade_flows"
        )
    }
    months = lambda year: [rate(rates, "EUR", f"{year}-{m:02d}-01") for m in range(1, 13)]  # noqa: E731
    assert rows["E1"] == (1204.71, "official", "2021-06-01", "monthly")  # the ECB's June 2021 average, 1.20471
    assert rows["E2"] == (pytest.approx(1000 * sum(months(2021)) / 12, abs=0.005), "official", "2021-01-01", "annual")
    assert rows["E2"][0] != pytest.approx(1000 * rate(rates, "EUR", "2021-01-01"), abs=1)  # not January's rate
    assert rows["E3"] == (pytest.approx(1000 * rate(rates, "EUR", "2022-01-01"), abs=0.005), "official", "2022-01-01", "annual")
    assert rows["E4"] == (pytest.approx(1000 * sum(months(2024)) / 12, abs=0.005), "official_approximate", "2024-01-01", "annual")
    assert rows["R1"] == (pytest.approx(1000 * rate(rates, "RUB", "2023-05-01"), abs=0.005), "official_approximate", "2023-05-01", "monthly")


def test_an_approximate_rate_is_named_in_core_and_in_the_marts(shipped_build):
    types = dict(shipped_build.query(
        "SELECT currency, list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FROM core.trade_flows "
        "WHERE period = DATE '2023-05-01' AND currency IN ('EUR', 'RUB') GROUP BY ALL"
    ))
    assert types == {"EUR": ["official"], "RUB": ["official_approximate"]}  # the ECB's, and an estimate (no RUB after 2022-03-01)
    ((rub_in_mart,),) = shipped_build.query(
        "SELECT list(DISTINCT t ORDER BY t) FROM marts.channel_mix, unnest(fx_rate_types) u(t) "
        "WHERE month = DATE '2023-05-01' AND channel_id = 'rub'"
    )
    assert "official_approximate" in rub_in_mart


def test_a_large_file_read_in_pieces_loads_and_keeps_aside_exactly_what_a_whole_read_does(seeds, tmp_path, monkeypatch, shipped_build):
    """Files above PIECE_BYTES are read, checked and loaded a piece at a time (bounded memory): with pieces of
    10 kB every month file of the sample is cut in several, and every row and every kept-aside cell must be the
    same, at the same line, as when each file is read whole."""
    import pipeline.assets.core as core
    import pipeline.seedfile as seedfile

    monkeypatch.setattr(core, "PIECE_BYTES", 10_000)
    monkeypatch.setattr(seedfile, "PIECE_BYTES", 10_000)
    pieces = materialize(seeds, tmp_path / "detour.duckdb")
    assert pieces.result.success
    rows = "SELECT flow_id, source_file, row_number, value_usd FROM core.trade_flows ORDER BY ALL"
    kept = "SELECT source_file, row_number, column_name, rule, bad_value FROM quality.quarantine ORDER BY ALL"
    audit = "SELECT source_file, file_sha256, rows_read, rows_loaded, rows_quarantined FROM quality.load_audit_latest ORDER BY ALL"
    for sql in (rows, kept, audit):
        assert pieces.query(sql) == shipped_build.query(sql), sql


def test_views_carry_their_tables_column_comments(shipped_build):
    # quality.load_audit_latest and core's real/illustrative views mean what their tables mean, column by column
    missing = shipped_build.query(
        """SELECT v.schema_name || '.' || v.table_name, v.column_name FROM duckdb_columns() v
           JOIN duckdb_columns() t ON t.column_name = v.column_name
            AND (v.schema_name, v.table_name, t.schema_name, t.table_name) IN (
                ('quality', 'load_audit_latest', 'quality', 'load_audit'), ('core', 'trade_flows_real', 'core', 'trade_flows'),
                ('core', 'trade_flows_illustrative', 'core', 'trade_flows'))
           WHERE t.comment <> '' AND v.comment IS DISTINCT FROM t.comment""")
    (commented,) = shipped_build.query(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'trade_flows_real' AND comment <> ''")[0]
    assert missing == [] and commented > 30


EU_27 = {"AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA", "LVA",
         "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE"}


def test_jurisdictions_hold_authorities_as_a_list_and_flag_eu_and_un_members(shipped_build):
    # "EU exports" is a flag, not a LIKE on a pipe string; Norway and Switzerland align with EU measures by their
    # own law, so they are not members; Taiwan is no UN member
    rows = {iso3: (authorities, eu, un) for iso3, authorities, eu, un in shipped_build.query(
        "SELECT country_iso3, sanctions_authorities, eu_member, un_member FROM ref.jurisdictions")}
    assert {iso3 for iso3, (_, eu, _) in rows.items() if eu} == EU_27
    assert rows["DEU"] == (["EU", "UN"], True, True) and rows["NOR"] == (["NO", "UN"], False, True)
    assert rows["CHE"][1:] == (False, True) and rows["TWN"] == ([], False, False)
    assert shipped_build.query("SELECT data_type FROM duckdb_columns() WHERE schema_name = 'ref' AND table_name = 'jurisdictions' "
                               "AND column_name = 'sanctions_authorities'") == [("VARCHAR[]",)]
