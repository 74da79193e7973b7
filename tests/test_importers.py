"""Downloaded files taken as they are: CEPII BACI and UN Comtrade Plus files in their exact layouts,
through the real pipeline into core.trade_flows, with every refused row named and every file accounted for."""

import csv
import shutil
from pathlib import Path

import pytest

from tests.conftest import SHIPPED_SEEDS, materialize

COMTRADE_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,flowCode,flowDesc,"
    "partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,classificationCode,classificationSearchCode,"
    "isOriginalClassification,cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,"
    "qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,"
    "isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,legacyEstimationFlag,isReported,isAggregate"
).split(",")


def comtrade_row(**fields) -> dict:
    """A totals row of goods, HS 2022, monthly; `fields` override."""
    row = {c: "" for c in COMTRADE_HEADER}
    row.update(typeCode="C", freqCode="M", period="202303", refYear="2023", refMonth="3", reporterCode="251",
               reporterISO="FRA", flowCode="X", partnerCode="643", partnerISO="RUS", partner2Code="0",
               partner2ISO="W00", classificationCode="H6", cmdCode="854231", aggrLevel="6", customsCode="C00",
               mosCode="0", motCode="0", netWgt="120.5", primaryValue="250000.5")
    row.update(fields)
    return row


# (reporter's row, what becomes of it, one line of why)
COMTRADE_CASES = [
    (dict(), "loaded", "a totals row: France (Comtrade 251, not ISO 250) exports to Russia, basis exporter_reported"),
    (dict(flowCode="M", reporterCode="643", reporterISO="RUS", partnerCode="156", partnerISO="CHN", cmdCode="870380",
          primaryValue="990000"), "loaded", "Russia reports an import from China: the importer is the reporter"),
    (dict(flowCode="RX", reporterCode="842", reporterISO="USA", partnerCode="124", partnerISO="CAN"), "loaded",
     "a US re-export: kept apart as flow_kind re_export, never canonical"),
    (dict(freqCode="A", period="2023", reporterCode="381", reporterISO="ITA", partnerCode="398", partnerISO="KAZ"),
     "loaded", "an annual row of Italy (Comtrade 381): frequency annual, period the year"),
    (dict(motCode="2100"), "skipped", "a mode-of-transport breakdown repeats the totals row"),
    (dict(partnerCode="0", partnerISO="W00"), "skipped", "World is the sum of the country rows"),
    (dict(cmdCode="8542", aggrLevel="4"), "cmdCode", "HS level 4 repeats the HS6 rows: refused"),
    (dict(classificationCode="H4"), "classificationCode", "HS 2012 has no concordance shipped"),
    (dict(partnerCode="899", partnerISO="_X"), "partnerCode", "areas n.e.s. are not countries"),
    (dict(reporterCode="251", reporterISO="DEU"), "reporterCode", "the file's own ISO column contradicts the code"),
    (dict(primaryValue="n/a"), "primaryValue", "the value is not a number"),
]


def write_comtrade(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COMTRADE_HEADER, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def small_seeds(root: Path) -> Path:
    """The shipped reference seeds with one small trade-flow month and no shipped imports."""
    seeds = Path(shutil.copytree(SHIPPED_SEEDS, root / "seeds"))
    shutil.rmtree(seeds / "imports")
    flows = (SHIPPED_SEEDS / "trade_flows" / "2023-05.csv").read_text(encoding="utf-8").splitlines()
    shutil.rmtree(seeds / "trade_flows")
    (seeds / "trade_flows").mkdir()
    (seeds / "trade_flows" / "2023-05.csv").write_text("\n".join(flows[:40]) + "\n", encoding="utf-8")
    return seeds


@pytest.fixture(scope="module")
def imported(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("imports")
    seeds = small_seeds(root)
    rows = [comtrade_row(cmdCode=row.get("cmdCode", "854231"), **{k: v for k, v in row.items() if k != "cmdCode"})
            for row, _, _ in COMTRADE_CASES]
    # distinct HS codes keep the loaded rows' flow_ids apart
    for n, row in enumerate(rows):
        if row["cmdCode"] == "854231":
            row["cmdCode"] = f"8542{31 + n:02d}" if n else "854231"
    write_comtrade(seeds / "imports" / "comtrade" / "TradeData_3_1_2024.csv", rows)
    shared = Path(request.config.rootpath).parent / "shared" / "data" / "baci-dictionaries" / "V202201_country_codes.csv"
    if shared.is_file():  # the real V202201 dictionary: 5 columns, BOM, CRLF, a mis-encoded name
        baci = seeds / "imports" / "baci"
        baci.mkdir(parents=True)
        shutil.copy(shared, baci / "country_codes_V202201.csv")
        (baci / "BACI_HS17_Y2021_V202201.csv").write_bytes(
            b"\xef\xbb\xbft,i,j,k,v,q\r\n"
            b"2021,251,643,10620,48.641,         NA\r\n"  # France → Russia, a chapter-01 code without its zero, q NA
            b"2021,699,364,852580,1.5,\r\n"  # India (BACI 699) → Iran; 852580 split and renumbered in HS 2022
            b"2021,757,643,854231,2000.25,0.75\r\n"  # Switzerland (757) → Russia, chips
            b"2021,999,643,854231,1,1\r\n"  # 999 is in no dictionary
            b"2021,842,643,854231,lots,1\r\n"  # v is not a number
        )
    # its rows are few and some are bad on purpose: what they keep aside is far above the default 0.1%
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DETOUR_MAX_QUARANTINED_VALUE_SHARE", "1")
        env.setenv("DETOUR_MAX_QUARANTINED_ROW_SHARE", "1")
        build = materialize(seeds, root / "detour.duckdb")
    build.query_build = lambda sql, params=None: build.query(sql, params, published=False)
    return build


def test_the_comtrade_and_baci_files_load_beside_the_seed_flows(imported):
    # one month of sample flows leaves most claims without data: only the steps up to the marts matter here
    for step in ("core__trade_flows", "core__routed_flows", "marts__channel_mix", "marts__route_risk"):
        assert imported.succeeded(step), step
    sources = {s for (s,) in imported.query_build("SELECT DISTINCT split_part(source_file, '/', 1) FROM core.trade_flows")}
    assert {"trade_flows", "imports"} <= sources


@pytest.mark.parametrize("fields,outcome,why", COMTRADE_CASES, ids=[c[2] for c in COMTRADE_CASES])
def test_a_comtrade_row(imported, fields, outcome, why):
    line = COMTRADE_CASES.index((fields, outcome, why)) + 2
    name = "imports/comtrade/TradeData_3_1_2024.csv"
    loaded = imported.query_build("SELECT * FROM core.trade_flows WHERE source_file = ? AND row_number = ?", [name, line])
    kept_aside = imported.query_build(
        "SELECT column_name, rule FROM quality.quarantine WHERE source_file = ? AND row_number = ?", [name, line]
    )
    if outcome == "loaded":
        assert len(loaded) == 1 and not kept_aside, why
    elif outcome == "skipped":
        assert not loaded and not kept_aside, why
    else:
        assert not loaded and [c for c, _ in kept_aside] == [outcome], (why, kept_aside)


def test_comtrade_rows_say_who_exports_and_who_reported(imported):
    rows = imported.query_build(
        """SELECT exporter_iso3, importer_iso3, basis, flow_kind, canonical, frequency, period::VARCHAR, value_usd::DOUBLE,
                  quantity_kg, hs_edition, data_status
           FROM core.trade_flows WHERE starts_with(source_file, 'imports/comtrade') ORDER BY row_number"""
    )
    assert rows == [
        ("FRA", "RUS", "exporter_reported", None, True, "monthly", "2023-03-01", 250000.5, 120.5, "HS2022", "real"),
        ("CHN", "RUS", "importer_reported", None, True, "monthly", "2023-03-01", 990000.0, 120.5, "HS2022", "real"),
        ("USA", "CAN", "exporter_reported", "re_export", False, "monthly", "2023-03-01", 250000.5, 120.5, "HS2022", "real"),
        ("ITA", "KAZ", "exporter_reported", None, True, "annual", "2023-01-01", 250000.5, 120.5, "HS2022", "real"),
    ]


def test_every_imported_file_is_accounted_for(imported):
    audit = imported.query_build(
        """SELECT source_file, rows_read, rows_loaded, rows_quarantined, rows_skipped FROM quality.load_audit
           WHERE starts_with(source_file, 'imports/') ORDER BY source_file"""
    )
    comtrade = [a for a in audit if "comtrade" in a[0]]
    assert comtrade == [("imports/comtrade/TradeData_3_1_2024.csv", 11, 4, 5, 2)]
    for _, read, loaded, quarantined, skipped in audit:
        assert read == loaded + quarantined + skipped


def test_baci_codes_units_and_periods(imported, shared_data):
    rows = imported.query_build(
        """SELECT row_number, exporter_iso3, importer_iso3, hs_code, hs_code_2022, hs_match, value_usd::DOUBLE, quantity_kg,
                  frequency, period::VARCHAR, basis, canonical
           FROM core.trade_flows WHERE starts_with(source_file, 'imports/baci') ORDER BY row_number"""
    )
    assert rows == [
        # BACI's 251 is France; k lost its leading zero; v thousands of USD; NA quantity is unknown
        (2, "FRA", "RUS", "010620", "010620", "exact", 48641.0, None, "annual", "2021-01-01", "baci_reconciled", True),
        # 699 is India in BACI (ISO 356); 852580 was split into 852581-852589 and 8806: matched on its heading
        (3, "IND", "IRN", "852580", "8525", "approximate", 1500.0, None, "annual", "2021-01-01", "baci_reconciled", True),
        # 757 is Switzerland (ISO 756); tonnes to kg; 854231 kept its number in HS 2022 but lost goods to others
        (4, "CHE", "RUS", "854231", "854231", "approximate", 2000250.0, 750.0, "annual", "2021-01-01", "baci_reconciled", True),
    ]
    kept_aside = imported.query_build(
        """SELECT row_number, column_name, rule FROM quality.quarantine
           WHERE starts_with(source_file, 'imports/baci') ORDER BY row_number"""
    )
    assert kept_aside == [
        (5, "i", "exporter code not in country_codes_V202201.csv"),
        (6, "v", "type: not a number (thousands of USD)"),
    ]


def test_annual_flows_stay_out_of_month_level_marts(imported):
    """An annual figure is never a January spike: month-level marts hold monthly flows only, year-level include it."""
    months = imported.query_build(
        "SELECT month::VARCHAR, sum(value_usd)::DOUBLE FROM marts.channel_mix WHERE data_status = 'real' GROUP BY ALL"
    )
    assert months == [("2023-03-01", 250000.5 + 990000.0)]  # the two monthly Comtrade flows; not the re-export, no BACI
    ((in_year,),) = imported.query_build(
        "SELECT sum(value_usd)::DOUBLE FROM marts.route_risk WHERE data_status = 'real'"
    )
    ((canonical_real,),) = imported.query_build(
        "SELECT sum(value_usd)::DOUBLE FROM core.trade_flows WHERE data_status = 'real' AND canonical"
    )
    assert in_year == pytest.approx(canonical_real)


def test_a_file_of_the_wrong_layout_is_refused_with_one_message(tmp_path):
    seeds = small_seeds(tmp_path)
    bad = seeds / "imports" / "comtrade" / "download.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("Classification,Year,Period,Reporter,Partner,Trade Value (US$)\nH5,2021,2021,Iran,Russia,1\n")
    build = materialize(seeds, tmp_path / "detour.duckdb")
    message = build.failure("core__trade_flows")
    assert str(bad) in message and "not a UN Comtrade Plus" in message and "missing column(s) typeCode" in message
    assert "Traceback" not in message


def test_a_downloaded_file_dropped_among_the_seed_flows_is_sent_to_its_folder(tmp_path):
    seeds = small_seeds(tmp_path)
    misplaced = seeds / "trade_flows" / "TradeData_3_1_2024.csv"
    write_comtrade(misplaced, [comtrade_row()])
    build = materialize(seeds, tmp_path / "detour.duckdb")
    message = build.failure("core__trade_flows")
    assert message == (f"{misplaced}: a UN Comtrade Plus file: put it, unchanged, in {seeds / 'imports/comtrade'}/ "
                       "(see README, Bring your own data)")


def test_a_baci_file_without_its_dictionary_is_refused(tmp_path):
    seeds = small_seeds(tmp_path)
    baci = seeds / "imports" / "baci"
    baci.mkdir(parents=True)
    (baci / "BACI_HS17_Y2021_V202501.csv").write_text("t,i,j,k,v,q\n2021,156,643,854231,1,1\n")
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert "no country_codes_V202501.csv beside it" in build.failure("core__trade_flows")
    assert "Detour carries those of release 202201" in build.failure("core__trade_flows")


def test_a_baci_file_of_a_carried_release_loads_without_a_dictionary_and_one_beside_it_wins(tmp_path):
    # a user's V202201 download holding Türkiye and France needs no dictionary beside it: Detour carries that release's
    # (the small seeds' claims cannot be compared, so their blocking check withholds the publish: the build is read)
    seeds = small_seeds(tmp_path)
    baci = seeds / "imports" / "baci"
    baci.mkdir(parents=True)
    (baci / "BACI_HS17_Y2021_V202201.csv").write_text("t,i,j,k,v,q\n2021,792,643,854231,2,1\n2021,251,643,854231,3,1\n")
    build = materialize(seeds, tmp_path / "detour.duckdb")
    # 792 is Türkiye, 251 France (ISO 250): the carried V202201 dictionary's own mapping
    assert build.query("SELECT exporter_iso3, importer_iso3, value_usd::DOUBLE FROM core.trade_flows "
                       "WHERE starts_with(source_file, 'imports/baci') ORDER BY ALL", published=False) == [("FRA", "RUS", 3000.0), ("TUR", "RUS", 2000.0)]
    # a dictionary beside the file is the user's word for its release: France alone there keeps Türkiye's row aside
    (baci / "country_codes_V202201.csv").write_text("country_code,country_name,country_iso2,country_iso3\n251,France,FR,FRA\n643,Russia,RU,RUS\n")
    again = materialize(seeds, tmp_path / "again" / "detour.duckdb")
    assert again.query("SELECT exporter_iso3 FROM core.trade_flows WHERE starts_with(source_file, 'imports/baci')",
                       published=False) == [("FRA",)]
    assert again.query("SELECT rule FROM quality.quarantine WHERE starts_with(source_file, 'imports/baci')", published=False) == [
        ("exporter code not in country_codes_V202201.csv",)]


def test_a_drone_code_in_a_2019_flow_is_a_data_error(seeds, tmp_path):
    path = seeds / "trade_flows" / "2019-06.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    header = lines[0].split(",")
    first[header.index("hs_code")] = "880622"
    lines[1] = ",".join(first)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    build = materialize(seeds, tmp_path / "detour.duckdb", month="2019-06")
    rules = build.query(
        "SELECT column_name, rule, bad_value FROM quality.quarantine WHERE source_file = 'trade_flows/2019-06.csv'",
        published=False,
    )
    assert rules == [("hs_code", "code exists only from HS 2022 (in force 1 Jan 2022), so a flow before 2022 cannot carry it", "880622")]


def test_the_shipped_real_baci_rows_give_china_russia_chpl_trade(shipped_build):
    """CHN→RUS trade in CHPL goods (HS 2022 list, HS 2017 data through the concordance), sum of BACI's v."""
    rows = dict(shipped_build.query(
        """SELECT year(period), round(sum(value_usd) / 1e9, 2)::DOUBLE FROM core.trade_flows
           WHERE data_status = 'real' AND exporter_iso3 = 'CHN' AND importer_iso3 = 'RUS'
             AND hs_code_2022 IN (SELECT hs6 FROM ref.chpl) GROUP BY ALL"""
    ))
    assert (rows[2021], rows[2022], rows[2023]) == (4.93, 3.47, 4.8)
    ((total_2023,),) = shipped_build.query(
        """SELECT round(sum(value_usd) / 1e9, 1)::DOUBLE FROM core.trade_flows
           WHERE data_status = 'real' AND exporter_iso3 = 'CHN' AND importer_iso3 = 'RUS' AND year(period) = 2023"""
    )
    assert total_2023 == 110.0  # matches China customs' ~$111bn (SOURCES.md spot check)


def test_the_same_baci_data_in_two_releases_loads_once_the_newest_winning(seeds, tmp_path):
    folder = seeds / "imports" / "baci"
    shutil.copy(folder / "BACI_HS17_Y2017-2023_V202501_CHN_RUS.csv", folder / "BACI_HS17_Y2017-2023_V202401_CHN_RUS.csv")
    shutil.copy(folder / "country_codes_V202501.csv", folder / "country_codes_V202401.csv")
    build = materialize(seeds, tmp_path / "detour.duckdb")

    assert build.result.success
    ((billions,),) = build.query(
        "SELECT round(sum(value_usd) / 1e9, 2)::DOUBLE FROM core.trade_flows WHERE source_file LIKE 'imports/baci/%'")
    assert billions == 977.66  # not 1,955.32: one trade, two releases
    audit = dict(build.query(
        "SELECT source_file, (rows_loaded, rows_skipped, skip_reasons[1].reason) FROM quality.load_audit_latest "
        "WHERE source_file LIKE 'imports/baci/%'"))
    older, newer = audit["imports/baci/BACI_HS17_Y2017-2023_V202401_CHN_RUS.csv"], audit["imports/baci/BACI_HS17_Y2017-2023_V202501_CHN_RUS.csv"]
    assert (older[0], newer[1]) == (0, 0) and older[1] == newer[0] == 43494
    assert older[2].startswith("the same trade is loaded from imports/baci/BACI_HS17_Y2017-2023_V202501_CHN_RUS.csv")


def test_a_baci_dictionary_naming_a_code_twice_is_refused_naming_both_lines(seeds, tmp_path):
    dictionary = seeds / "imports" / "baci" / "country_codes_V202501.csv"
    dictionary.write_text(dictionary.read_text(encoding="utf-8") + "643,Belarus,BY,BLR\n", encoding="utf-8")
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert f"{dictionary}: country_code 643 is on lines 3 and 4: a code names one country" in build.failure("core__trade_flows")


def test_baci_faults_are_kept_aside_at_their_physical_lines(tmp_path):
    seeds = small_seeds(tmp_path)
    folder = seeds / "imports" / "baci"
    folder.mkdir(parents=True)
    shutil.copy(SHIPPED_SEEDS / "imports/baci/country_codes_V202501.csv", folder)
    (folder / "BACI_HS17_Y2021_V202501.csv").write_text(
        "t,i,j,k,v,q\n"
        "2021,156,643,854231,12.5,1\n"   # line 2 loads
        "\n"                              # line 3 blank: counted, not a row
        "2021,156,643\n"                  # line 4 short: kept aside here, the file still loads
        "# a note\n"                      # line 5 a comment: kept aside here
        "2021,156,643,854232,x,1\n"      # line 6 bad value
        "2021,156,643,854233,3,NA\n",    # line 7 loads
        encoding="utf-8",
    )
    build = materialize(seeds, tmp_path / "detour.duckdb")
    kept = build.query("SELECT DISTINCT row_number FROM quality.quarantine WHERE source_file LIKE 'imports/baci/%' ORDER BY 1",
                       published=False)
    assert kept == [(4,), (5,), (6,)]
    loaded = build.query("SELECT row_number FROM core.trade_flows WHERE source_file LIKE 'imports/baci/%' ORDER BY 1",
                         published=False)
    assert loaded == [(2,), (7,)]
