"""core.trade_flows: categories by longest HS prefix, USD values by ASOF join on FX rates."""

import shutil

import duckdb
import pytest

from pipeline.assets.ingest import accounting_check
from schemas import SEEDS
from tests.conftest import materialize
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
def small_build(seeds, tmp_path):
    header, _ = read_rows(seeds / "fx_rates.csv")
    rates = [
        ("2019-01-01", "USD", "official", "1"),
        ("2022-02-01", "IRR", "official", "0.0000238"),
        ("2022-02-01", "IRR", "market", "0.0000035"),
        ("2022-04-01", "RUB", "official", "0.0125"),
        ("2022-06-01", "RUB", "official", "0.0172"),
        ("2023-01-01", "EUR", "official", "1.08"),
        ("2023-08-01", "EUR", "official", "1.11"),
        ("2019-01-01", "CNY", "official", "0.145"),
        ("2019-01-01", "AED", "official", "0.2723"),
        ("2019-01-01", "XAU", "market", "1300"),
        ("2019-01-01", "USDT", "market", "1"),
    ]
    write_rows(seeds / "fx_rates.csv", header, [dict(zip(header, (*r, "test rate"), strict=True)) for r in rates])
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
    assert rows["F7"] == (pytest.approx(3.5), "market", "2022-02-01")
    assert rows["F8"] == (pytest.approx(6.25), "official", "2022-04-01")
    assert rows["F9"] == (pytest.approx(10.8), "official", "2023-01-01")


def test_a_flow_dated_before_its_currencys_first_rate_fails_the_blocking_usd_check(seeds, tmp_path):
    header, rows = read_rows(seeds / "trade_flows" / "2019-01.csv")
    rows[0].update(period="2019-01", currency="XAU", value="10")
    write_rows(seeds / "trade_flows" / "2019-01.csv", header, rows)
    header, rates = read_rows(seeds / "fx_rates.csv")
    write_rows(seeds / "fx_rates.csv", header, [r for r in rates if not (r["currency"] == "XAU" and r["date"] == "2019-01-01")])
    build = materialize(seeds, tmp_path / "detour.duckdb")
    (evaluation,) = [
        e.event_specific_data
        for e in build.result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == "converted_to_usd"
    ]
    assert not evaluation.passed
    assert not build.succeeded("published_warehouse")


def test_the_accounting_check_fails_when_a_table_lost_rows(shipped_build, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(shipped_build.warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        ((run_id,),) = con.execute("SELECT run_id FROM quality.load_audit WHERE seed = 'chpl'").fetchall()
        assert accounting_check(con, SEEDS["chpl"], "ref.chpl", run_id, 1).passed
        con.execute("DELETE FROM ref.chpl WHERE tier = '1'")
        result = accounting_check(con, SEEDS["chpl"], "ref.chpl", run_id, 1)
    assert not result.passed
