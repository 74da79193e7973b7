"""The EU HS6 export-sanctions list (Chupilkin, Javorcik, Peeva & Plekhanov): the importer on the real list
(CSV and the deposit's .dta) and on small files written in its layout (a CSV, and a .dta written with
pandas.DataFrame.to_stata); a wrong layout or two copies fail with one message naming the files; a bad row
is kept aside with file, row, column and rule; the list's file is audited read = loaded + kept aside +
skipped; a real run puts its measures in ref.sanctions_measures beside the hand-written ones."""

import datetime as dt
import shutil

import pandas as pd
import pytest

from pipeline.contract import check
from pipeline.importers import eu_hs6
from pipeline.sample_flows import SOURCE_PREFIX
from pipeline.seedfile import SeedFileError
from schemas.eu_hs6 import CATEGORIES
from schemas.eu_hs6 import SEED as EU_HS6
from tests.conftest import SHIPPED_SEEDS, materialize

HEADER = ",".join(eu_hs6.COLUMNS)
FLAGS = {c: "" for c in CATEGORIES}


def line(code, date, winddown="", exempt="0.0", price="", sanctioned="1.0", **flags) -> str:
    cells = {**FLAGS, **flags}
    return ",".join([code, date, winddown, exempt if sanctioned else "", price, *(cells[c] for c in CATEGORIES), sanctioned])


SMALL = "\n".join([
    HEADER,
    line("420221", "2022-03-15", "2022-03-28", price="300.0", luxury="1.0"),                # line 2: luxury-only, EUR 300
    line("854231", "2022-02-25", "2022-05-01", dual_use="1.0", military_tech="1.0"),        # line 3
    line("010130", "", sanctioned=""),                                                      # line 4: not sanctioned: skipped
    line("85423", "2022-02-25", dual_use="1.0"),                                            # line 5: bad code
    line("854232", "2022-02-31", dual_use="1.0"),                                           # line 6: bad date
    line("854233", "2022-02-25", exempt="1.0", dual_use="1.0", military_tech="1.0"),       # line 7: partially exempt
    line("854239", "2022-02-25", dual_use="yes"),                                           # line 8: bad flag
    line("850110", "2016-12-22", military_tech="1.0", industrial_cap="1.0"),               # line 9: before Annex VII
]) + "\n"


def checked(seeds, relative):
    listed = eu_hs6.read(seeds / relative, seeds)
    return listed, check(listed.rows, EU_HS6, lambda seed, column: [])


def write_list(seeds, name: str, text: str = SMALL):
    folder = seeds / eu_hs6.FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / name).write_text(text, encoding="utf-8")
    return f"{eu_hs6.FOLDER}/{name}"


def test_the_real_list_reads_5369_codes_2304_sanctioned_and_skips_17_dated_before_their_annex(shared_data, tmp_path):
    folder = shared_data / "sanctions-lists" / "eu-hs6-cjp"
    measures = {}
    for name in ("EU_sanctions_HS6.csv", "EU_sanctions_HS6.dta"):
        listed = eu_hs6.read(folder / name, folder)
        codes = check(listed.rows, EU_HS6, lambda seed, column: [])
        assert (listed.rows_read, listed.skipped, listed.rejected.height) == (5369, 3082, 0), name
        # Annex VII was created on 25 Feb 2022: 17 of its codes dated 2016-12-22 name no act that banned them then
        assert listed.skip_reasons == [{"reason": eu_hs6.SKIP_REASON, "rows": 3065}, {"reason": eu_hs6.BEFORE_ANNEX, "rows": 17}]
        assert (codes.good.height, codes.quarantine.height) == (2287, 0), name
        dates = codes.good.group_by("effective_from").len()
        assert min(dates["effective_from"]) == dt.date(2022, 2, 25)
        assert dict(dates.iter_rows())[dt.date(2022, 2, 25)] == 894
        assert dict(dates.iter_rows())[dt.date(2023, 2, 25)] == 122
        assert codes.good["partially_exempt"].sum() == 267
        measures[name] = eu_hs6.measures(codes.good, name).drop("source", "source_file", "row_number")  # CSV lines start at 2
    assert measures["EU_sanctions_HS6.csv"].equals(measures["EU_sanctions_HS6.dta"])
    assert measures["EU_sanctions_HS6.csv"].height == 66


def test_the_shipped_list_is_a_byte_copy_of_the_real_one(shared_data):
    shipped = SHIPPED_SEEDS / eu_hs6.FOLDER / "EU_sanctions_HS6.csv"
    assert shipped.read_bytes() == (shared_data / "sanctions-lists/eu-hs6-cjp/EU_sanctions_HS6.csv").read_bytes()


def test_a_bad_code_date_or_flag_is_kept_aside_with_file_row_column_and_rule(seeds):
    relative = write_list(seeds, "EU_sanctions_HS6.csv")
    listed, codes = checked(seeds, relative)
    assert (listed.rows_read, listed.skipped) == (8, 2)
    kept = {(r["row_number"], r["column_name"], r["rule"].split("(")[0]) for r in codes.quarantine.iter_rows(named=True)}
    kept |= {(r["row_number"], r["column_name"], r["rule"]) for r in listed.rejected.iter_rows(named=True)}
    assert kept == {
        (5, "code", "str_matches"),
        (6, "effective_from", "type: not a date "),
        (8, "dual_use", "dual_use is 1, 0 or empty"),
        (8, "EU_sanction", "a sanctioned code names at least one category"),
    }
    assert set(codes.quarantine["source_file"]) | set(listed.rejected["source_file"]) == {relative}
    assert sorted(codes.good["code"]) == ["420221", "854231", "854233"]
    measures = eu_hs6.measures(codes.good, relative)
    assert dict(zip(measures["measure_id"], measures["target"])) == {
        "eu_hs6_2022_03_15_luxury_300": "420221",
        "eu_hs6_2022_02_25_dual_use_military_tech": "854231|854233",
    }
    luxury, ics = measures.sort("measure_id", descending=True).iter_rows(named=True)
    assert (luxury["min_unit_value_eur"], luxury["hs_edition"], luxury["direction"]) == ("300", "HS2017", "to_target")
    assert ics["min_unit_value_eur"] is None and "1 of the codes are partially exempt" in ics["description"]
    assert "Art. 3h and Annex XVIII" in luxury["legal_reference"]


def test_a_dta_written_by_pandas_reads_like_the_csv(seeds):
    relative = write_list(seeds, "EU_sanctions_HS6.csv")
    frame = pd.read_csv(seeds / relative, dtype={"Code": str}, keep_default_na=True)
    frame = frame[frame["Code"] != "85423"]  # a .dta keeps types: a bad code is still text, a bad date cannot be written
    frame = frame[frame["Date"] != "2022-02-31"].copy()
    for column in ("Date", "Winddowndate"):
        frame[column] = pd.to_datetime(frame[column])
    frame["dual_use"] = pd.to_numeric(frame["dual_use"], errors="coerce")
    (seeds / relative).unlink()
    dta = seeds / eu_hs6.FOLDER / "EU_sanctions_HS6.dta"
    frame.to_stata(dta, write_index=False, convert_dates={"Date": "td", "Winddowndate": "td"})
    listed, codes = checked(seeds, f"{eu_hs6.FOLDER}/EU_sanctions_HS6.dta")
    assert (listed.rows_read, listed.skipped) == (6, 2)
    assert listed.rejected.select("row_number", "column_name").rows() == [(5, "EU_sanction")]  # dual_use 'yes' is empty now
    assert sorted(codes.good["code"]) == ["420221", "854231", "854233"]
    assert codes.good.filter(codes.good["code"] == "420221")["wind_down_date"][0] == dt.date(2022, 3, 28)


def test_a_file_of_another_layout_or_two_copies_fail_with_one_message_naming_them(seeds):
    relative = write_list(seeds, "EU_sanctions_HS6.csv", "Code,Date,EU_sanction\n854231,2022-02-25,1.0\n")
    with pytest.raises(SeedFileError, match=r"EU_sanctions_HS6.csv: not the EU HS6 .* missing column\(s\) Winddowndate, "
                       r"partially_exempt, Maxprice, aviation"):
        eu_hs6.read(seeds / relative, seeds)
    (seeds / eu_hs6.FOLDER / "EU_sanctions_HS6.dta").write_bytes(b"")
    with pytest.raises(SeedFileError, match="holds EU_sanctions_HS6.csv and EU_sanctions_HS6.dta: keep one copy"):
        eu_hs6.list_file(seeds)


def test_a_run_loads_the_list_beside_the_hand_written_measures_and_audits_it(seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("DETOUR_MAX_QUARANTINED_VALUE_SHARE", "1")  # the small list keeps rows aside on purpose
    relative = write_list(seeds, "EU_sanctions_HS6.csv")
    shutil.rmtree(seeds / "imports")  # the report then rests on the sample, which these two flows join
    (seeds / "trade_flows" / "2023-04-eu.csv").write_text(
        "flow_id,period,exporter_iso3,importer_iso3,hs_code,hs_edition,value,currency,quantity_kg,corridor_id,channel_id,"
        "transit_iso3,source,basis,quantity_units\n"
        f"L1,2023-04,ITA,RUS,42022100,HS2022,100000,EUR,,,,,{SOURCE_PREFIX} (test),exporter_reported,\n"
        f"L2,2023-04,ITA,RUS,42022100,HS2022,100000,EUR,,,,,{SOURCE_PREFIX} (test),exporter_reported,100\n",
        encoding="utf-8",
    )
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert build.result.success
    assert build.query("SELECT rows_read, rows_loaded, rows_quarantined, rows_skipped FROM quality.load_audit "
                       "WHERE seed = 'eu_hs6_list'") == [(8, 3, 3, 2)]
    assert set(build.query("SELECT source_file, row_number, column_name FROM quality.quarantine WHERE seed = 'eu_hs6_list'")) == {
        (relative, 5, "code"), (relative, 6, "effective_from"), (relative, 8, "dual_use"), (relative, 8, "EU_sanction"),
    }
    ((hand, listed),) = build.query("SELECT count(*) FILTER (WHERE hs_edition = 'HS2022'), count(*) FILTER "
                                    "(WHERE source_file = ?) FROM ref.sanctions_measures", [relative])
    assert (hand, listed) == (36, 2)
    # CN8 42022100 matches on its HS6; EUR 1,000 an item is above EUR 300; without a number of items: unpriced
    assert build.query("SELECT flow_id, measure_id FROM core.flow_sanctions WHERE flow_id IN ('L1', 'L2')") == [
        ("L2", "eu_hs6_2022_03_15_luxury_300")
    ]
    assert build.query("SELECT flow_id, value_usd > 0 FROM core.flow_sanctions_unpriced WHERE flow_id IN ('L1', 'L2')") == [
        ("L1", True)
    ]
