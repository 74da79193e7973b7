"""The seeds_changed sensor and the refresh_all schedule, evaluated for real on real seed files."""

import datetime as dt
import json
import os

import dagster as dg
import pytest

from pipeline.automation import refresh_all, seeds_changed
from pipeline.definitions import defs
from pipeline.months import MONTHS_TAG
from pipeline.resources import SeedsFolder
from pipeline.storage.warehouse import Warehouse
from tests.conftest import materialize
from tests.seededit import read_rows, write_rows


def tick(seeds, warehouse, cursor=None):
    context = dg.build_sensor_context(
        cursor=cursor,
        repository_def=defs.get_repository_def(),
        resources={"seeds": SeedsFolder(path=str(seeds)), "warehouse": Warehouse(path=str(warehouse))},
    )
    return seeds_changed(context)


def test_the_sensor_starts_nothing_for_loaded_or_touched_files_and_one_run_for_a_burst(seeds, tmp_path):
    warehouse = tmp_path / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success

    first = tick(seeds, warehouse)  # no cursor yet: compares with what the warehouse loaded
    assert first.run_requests == [] and first.skip_reason

    touched = seeds / "trade_flows" / "2020-02.csv"
    os.utime(touched, ns=(1, 1))  # new mtime, same content
    second = tick(seeds, warehouse, first.cursor)
    assert second.run_requests == []

    for month in ("2021-03", "2021-05"):  # a burst: two changed months and one new file
        header, rows = read_rows(seeds / "trade_flows" / f"{month}.csv")
        write_rows(seeds / "trade_flows" / f"{month}.csv", header, rows[:-1])
    write_rows(seeds / "trade_flows" / "2021-04-late.csv", header, [{**rows[0], "flow_id": "LATE-1", "period": "2021-04"}])
    third = tick(seeds, warehouse, second.cursor)
    (request,) = third.run_requests
    assert request.tags[MONTHS_TAG] == "2021-03..2021-05"
    selected = {"/".join(k.path) for k in request.asset_selection}
    assert {"core/trade_flows", "core/routed_flows", "marts/channel_mix", "published_warehouse"} <= selected
    assert not any(k.startswith("ref/") for k in selected)
    assert set(json.loads(third.cursor)) >= {"trade_flows/2021-04-late.csv"}

    assert tick(seeds, warehouse, third.cursor).run_requests == []  # the same change starts no second run


def test_a_changed_reference_seed_refreshes_everything_it_feeds_every_month(seeds, tmp_path):
    warehouse = tmp_path / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    header, rows = read_rows(seeds / "payment_channels.csv")
    rows[0]["traceability"] = "low"
    write_rows(seeds / "payment_channels.csv", header, rows)
    (request,) = tick(seeds, warehouse).run_requests
    selected = {"/".join(k.path) for k in request.asset_selection}
    assert "ref/payment_channels" in selected and "ref/goods_categories" not in selected
    assert "core/trade_flows" in selected and "marts/claims_check" in selected
    assert MONTHS_TAG not in request.tags  # every month


def test_a_new_baci_pair_is_named_while_its_codes_are_unknown_and_reaches_the_marts_once_the_dictionary_has_them(seeds, tmp_path):
    # the trap: Türkiye→Russia rows dropped beside the shipped two-country dictionary were all kept aside, green
    baci = seeds / "imports" / "baci"
    shipped = (baci / "BACI_HS17_Y2017-2023_V202501_CHN_RUS.csv").read_text().splitlines()
    rows = [line.split(",") for line in shipped[1:] if line.startswith("2023,156,643,")][:20]
    (baci / "BACI_HS17_Y2023_V202501_TUR_RUS.csv").write_text(
        "t,i,j,k,v,q\n" + "".join(f"2023,792,643,{k},{v},{q}\n" for _, _, _, k, v, q in rows))
    warehouse = tmp_path / "detour.duckdb"
    first = materialize(seeds, warehouse)
    (check,) = [e for e in first.result.get_asset_check_evaluations() if e.check_name == "every_file_loaded"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR  # red in the UI, first in make run's summary
    assert "imports/baci/BACI_HS17_Y2023_V202501_TUR_RUS.csv: 20 of 20 rows" in check.description
    assert "exporter code not in country_codes_V202501.csv" in check.description
    assert first.succeeded("published_warehouse")  # what did load is published

    cursor = tick(seeds, warehouse).cursor  # the file was read (and audited): nothing new
    with open(baci / "country_codes_V202501.csv", "a") as dictionary:
        dictionary.write("792,Türkiye,TR,TUR\n")
    (request,) = tick(seeds, warehouse, cursor).run_requests  # a dictionary is watched like the files it maps
    assert "core/trade_flows" in {"/".join(k.path) for k in request.asset_selection} and MONTHS_TAG not in request.tags

    again = materialize(seeds, warehouse)
    (check,) = [e for e in again.result.get_asset_check_evaluations() if e.check_name == "every_file_loaded"]
    assert check.passed
    total = sum(round(float(v) * 1000, 2) for *_, v, _ in rows)  # BACI values are thousands of USD
    ((landed,),) = again.query("SELECT sum(value_usd) FROM marts.bilateral_balance WHERE exporter_iso3 = 'TUR' AND category_id = '*' "
                               "AND importer_iso3 = 'RUS' AND year = 2023 AND data_status = 'real'")
    assert float(landed) == pytest.approx(total)


def test_before_the_first_build_every_seed_file_counts_as_new(seeds, tmp_path):
    (request,) = tick(seeds, tmp_path / "nothing.duckdb").run_requests
    assert {"ref/goods_categories", "core/trade_flows", "published_warehouse"} <= {"/".join(k.path) for k in request.asset_selection}


def test_the_schedule_refreshes_the_whole_graph_in_one_run():
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime.now(dt.UTC))
    request = refresh_all(context)
    assert MONTHS_TAG not in request.tags  # every month, up to the last month with data when the run starts
    assert request.asset_selection is None  # the job's selection: every asset
    assert refresh_all.default_status == dg.DefaultScheduleStatus.RUNNING
    assert seeds_changed.default_status == dg.DefaultSensorStatus.RUNNING
