"""Eurostat Comext downloads taken as they are: the data browser's spreadsheet and its relational-view CSV
in label, code-label and French styles, through the real pipeline; every cell loaded, totalled, skipped
with its reason or kept aside with its rule; and the published findings of the real files."""

import csv
import shutil
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipeline.importers import comext
from tests.conftest import materialize
from tests.test_importers import small_seeds

COMEXT = "imports/comext"
SPREADSHEET = f"{COMEXT}/4624976_spreadsheet.xlsx"
LABELS = f"{COMEXT}/Relational_View_labels.csv"
CODES = f"{COMEXT}/Relational_View_codes.csv"
FRENCH = f"{COMEXT}/Relational_View_fr.csv"
EU27 = "European Union - 27 countries (AT, BE, BG, CY, CZ, DE, DK, EE, ES, FI, FR, GR, HR, HU, IE, IT, LT, LU, LV, MT, NL, PL, PT, RO, SE, SI, SK)"
GERMANY = "Germany (incl. German Democratic Republic 'DD' from 1991)"
RUSSIA = "Russian Federation (Russia)"
HEADER = ["REPORTER", "PARTNER", "PRODUCT", "FLOW", "STAT_PROCEDURE", "PERIOD", "VALUE_IN_EUR"]
PERIODS = ["2016-12", "2021-03", "2022-03"]
# (sheet product, reporter, partner, a value per period of PERIODS); ':' is Eurostat's "not available"
SHEETS = [
    ("Processors and controllers, whether or not combined with memories [85423190]", [
        (GERMANY, RUSSIA, ["5", "1000", "200"]),
        (GERMANY, "Kazakhstan", [":", "50", "400"]),
        ("Greece", RUSSIA, [":", ":", "70"]),
        (GERMANY, "Extra-EU27 (from 2020)", [":", "1050", "600"]),
        (GERMANY, "Atlantis", [":", "9", ":"]),
        ("Austria", "Armenia", [":", "n/a", ":"]),
    ]),
    ("Electronic integrated circuits [8542]", [(GERMANY, RUSSIA, [":", "1100", "230"])]),
]


def write_spreadsheet(path: Path) -> None:
    """The data browser's spreadsheet layout: Summary and Structure sheets, then a sheet per product with its
    header block, a TIME row of periods and a row per reporter and partner (numbers as numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(path)
    summary = book.add_worksheet("Summary")
    summary.write_row(0, 0, ["EU trade since 1988 by HS2-4-6 and CN8"])
    structure = book.add_worksheet("Structure")
    structure.write_row(0, 0, ["Structure"])
    for i, (product, _) in enumerate(SHEETS):
        code = product.rsplit("[", 1)[1].rstrip("]")
        structure.write_row(i + 3, 0, ["", "product", "PRODUCT", code, product.rsplit(" [", 1)[0]])
    for n, (product, rows) in enumerate(SHEETS, start=1):
        sheet = book.add_worksheet(f"Sheet {n}")
        sheet.write_row(0, 0, ["Data extracted on 21/01/2023 20:19:52 from [ESTAT]"])
        sheet.write_row(1, 0, ["Dataset: ", "EU trade since 1988 by HS2-4-6 and CN8 [DS-045409__custom_4624976]"])
        sheet.write_row(4, 0, ["PRODUCT [PRODUCT]", "", product])
        sheet.write_row(5, 0, ["FLOW", "", "EXPORT"])
        sheet.write_row(6, 0, ["INDICATORS", "", "VALUE_IN_EUROS"])
        sheet.write_row(8, 0, ["TIME", "TIME", *PERIODS])
        sheet.write_row(9, 0, ["FREQ (Labels)", "FREQ (Labels)", *["Monthly"] * len(PERIODS)])
        sheet.write_row(10, 0, ["REPORTER (Labels)", "PARTNER (Labels)"])
        for r, (reporter, partner, values) in enumerate(rows, start=11):
            sheet.write_row(r, 0, [reporter, partner, *(float(v) if v.isdigit() else v for v in values)])
        sheet.write_row(11 + len(rows) + 1, 0, ["Special value"])
        sheet.write_row(11 + len(rows) + 2, 0, [":", "not available"])
    book.close()


# (file, the row as written, what becomes of it, one line of why)
CSV_CASES = [
    (LABELS, ["Croatia", "Armenia", "Total", "EXPORT", "Total", "Aug. 2024", "62592"], "total",
     "a member state's total goods to Armenia: a total, never a product flow"),
    (LABELS, [GERMANY, "Armenia", "Total", "EXPORT", "Total", "Aug. 2024", "900"], "total",
     "Germany, by its label with the history Eurostat writes beside it"),
    (LABELS, [EU27, "Armenia", "Total", "EXPORT", "Total", "Aug. 2024", "962592"], "skipped",
     "EU27 beside its member states' rows of the same partner, product and period: counted once, by the members"),
    (LABELS, [EU27, "Armenia", "Total", "EXPORT", "Total", "Sep. 2024", "700000"], "total",
     "EU27 alone for September: kept under its bloc code"),
    (LABELS, ["Croatia", "Armenia", "Total", "EXPORT", "Inward processing", "Aug. 2024", "100"], "skipped",
     "a statistical-procedure breakdown repeats the total of all procedures"),
    (LABELS, ["Croatia", "High seas", "Total", "EXPORT", "Total", "Aug. 2024", "3"], "skipped",
     "the high seas are no country"),
    (LABELS, ["Croatia", "Armenia", "Total", "EXPORT", "Total", "Summer 2024", "3"], "period",
     "a period Eurostat does not write is kept aside"),
    (CODES, ["France (incl. Saint Barthélemy 'BL' -> 2012)", "Kazakhstan", "TOTAL-Total", "2-EXPORT", "T-Total",
             "202408-Aug. 2024", "35299887"], "total", "code-label style: France's total to Kazakhstan, August 2024"),
    (CODES, [EU27, "Kyrgyzstan", "TOTAL-Total", "2-EXPORT", "T-Total", "201952-Jan.-Dec. 2019", "263239032"], "total",
     "Comext's code for a year, 201952: an annual total of the EU27"),
    (CODES, [GERMANY, "China", "85423190-Processors and controllers", "1-IMPORT", "T-Total", "202203-Mar. 2022", "5000"],
     "loaded", "a CN8 import: China exports, Germany reports (importer_reported), HS 2022-based CN of 2022"),
    (CODES, [GERMANY, "China", "Processors and controllers", "1-IMPORT", "T-Total", "202203-Mar. 2022", "5000"],
     "product", "a product label without its code cannot be matched to any list: kept aside"),
    (CODES, [GERMANY, "China", "85423190-Processors", "1-IMPORT", "T-Total", "201512-Dec. 2015", "5000"],
     "period", "a product flow of 2015: its CN is built on HS 2012, which no shipped concordance links"),
    (FRENCH, ["Allemagne (incl. République démocratique allemande 'DD' depuis 1991)", "Russie, Fédération de", "Total",
              "EXPORTATION", "Total", "Jan.-Dec. 2016", "1000"], "total", "a French download: Germany's total to Russia, 2016"),
    (FRENCH, ["Union européenne - 27 pays (AT, BE, BG, CY, CZ, DE, DK, EE, ES, FI, FR, GR, HR, HU, IE, IT, LT, LU, LV, MT, NL, PL, PT, RO, SE, SI, SK)",
              "Guinea", "Total", "EXPORTATION", "Total", "Jan.-Dec. 2016", "125725547"], "partner",
     "'Guinea' in a French download is not Guinea (Guinée): ambiguous, kept aside"),
]


def write_relational(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows([*row[:-1], int(row[-1])] for row in rows)


@pytest.fixture(scope="module")
def comext_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("comext")
    seeds = small_seeds(root)
    write_spreadsheet(seeds / SPREADSHEET)
    for name in (LABELS, CODES, FRENCH):
        write_relational(seeds / name, [row for file, row, _, _ in CSV_CASES if file == name])
    build = materialize(seeds, root / "detour.duckdb")
    build.query_build = lambda sql, params=None: build.query(sql, params, published=False)
    return build


def test_the_comext_files_load_beside_the_seed_flows(comext_build):
    # one month of sample flows leaves most claims without data (no publish): the steps up to the marts matter here
    for step in ("core__trade_flows", "marts__roundabout"):
        assert comext_build.succeeded(step), step


@pytest.mark.parametrize("name,row,outcome,why", CSV_CASES, ids=[c[3] for c in CSV_CASES])
def test_a_relational_view_row(comext_build, name, row, outcome, why):
    line = [c for c in CSV_CASES if c[0] == name].index((name, row, outcome, why)) + 2
    loaded = comext_build.query_build("SELECT 1 FROM core.trade_flows WHERE source_file = ? AND row_number = ?", [name, line])
    total = comext_build.query_build("SELECT 1 FROM core.trade_totals WHERE file = ? AND row = ?", [name, line])
    kept_aside = comext_build.query_build(
        "SELECT column_name FROM quality.quarantine WHERE source_file = ? AND row_number = ?", [name, line])
    found = {"loaded": len(loaded), "total": len(total), "kept_aside": [c for (c,) in kept_aside]}
    expected = {"loaded": int(outcome == "loaded"), "total": int(outcome == "total"),
                "kept_aside": [outcome] if outcome not in ("loaded", "total", "skipped") else []}
    assert found == expected, why


def test_the_spreadsheet_cells(comext_build):
    flows = dict(comext_build.query_build(
        "SELECT exporter_iso3 || '>' || importer_iso3 || ' ' || strftime(period, '%Y-%m') || ' ' || hs_code, value "
        "FROM core.trade_flows WHERE source_file = ?", [SPREADSHEET]))
    # CN8 cells load in their period's edition; Greece is GRC; ':' is no flow
    assert flows == {
        "DEU>RUS 2021-03 85423190": 1000, "DEU>RUS 2022-03 85423190": 200,
        "DEU>KAZ 2021-03 85423190": 50, "DEU>KAZ 2022-03 85423190": 400, "GRC>RUS 2022-03 85423190": 70,
    }
    editions = dict(comext_build.query_build(
        "SELECT strftime(period, '%Y'), any_value(hs_edition) FROM core.trade_flows WHERE source_file = ? GROUP BY 1",
        [SPREADSHEET]))
    assert editions == {"2021": "HS2017", "2022": "HS2022"}  # CN 2017-2021 is HS 2017-based, CN 2022 on HS 2022
    kept_aside = comext_build.query_build(
        "SELECT column_name, bad_value, raw_record->>'place' FROM quality.quarantine WHERE source_file = ? ORDER BY ALL",
        [SPREADSHEET])
    assert kept_aside == [
        ("partner", "Atlantis", "Sheet 1 row 16"),  # no such country
        ("period", "2016-12", "Sheet 1 row 12"),  # CN of 2016 is HS 2012-based
        ("value", "n/a", "Sheet 1 row 17"),
    ]


def test_every_file_is_accounted_for_with_the_reasons_of_its_skips(comext_build):
    audit = {row[0]: row[1:] for row in comext_build.query_build(
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined, rows_skipped, "
        "map_from_entries(skip_reasons) FROM quality.load_audit_latest WHERE source_file LIKE 'imports/comext/%'")}
    assert set(audit) == {SPREADSHEET, LABELS, CODES, FRENCH}
    for name, (read, loaded, quarantined, skipped, reasons) in audit.items():
        assert read == loaded + quarantined + skipped and sum(reasons.values()) == skipped, name
    # 2 sheets x 6 + 1 rows x 3 periods = 21 cells: 5 flows, 3 kept aside, 13 skipped
    assert audit[SPREADSHEET][:4] == (21, 5, 3, 13)
    assert audit[SPREADSHEET][4] == {
        comext.SKIP_MISSING: 9,  # the ':' cells
        comext.SKIP_PARTNER_AGGREGATE: 2,  # Extra-EU27 repeats the country rows
        comext.SKIP_HEADING: 2,  # CN4 8542 above CN8 85423190: never added to it
    }


def test_a_heading_above_its_codes_and_a_total_are_never_added_to_product_flows(comext_build):
    (heading_rows,) = comext_build.query_build("SELECT count(*) FROM core.trade_flows WHERE length(hs_code) < 8 AND source_file LIKE 'imports/comext/%'")[0]
    assert heading_rows == 0
    (totals_in_flows,) = comext_build.query_build("SELECT count(*) FROM core.trade_flows WHERE hs_code = 'TOTAL'")[0]
    assert totals_in_flows == 0


def test_the_totals_table(comext_build):
    totals = comext_build.query_build(
        "SELECT exporter_iso3, importer_iso3, strftime(period, '%Y-%m'), frequency, basis, value, currency, data_status "
        "FROM core.trade_totals ORDER BY ALL")
    assert totals == [
        ("DEU", "ARM", "2024-08", "monthly", "exporter_reported", 900, "EUR", "real"),
        ("DEU", "RUS", "2016-01", "annual", "exporter_reported", 1000, "EUR", "real"),
        ("EU27", "ARM", "2024-09", "monthly", "exporter_reported", 700000, "EUR", "real"),
        ("EU27", "KGZ", "2019-01", "annual", "exporter_reported", 263239032, "EUR", "real"),
        ("FRA", "KAZ", "2024-08", "monthly", "exporter_reported", 35299887, "EUR", "real"),
        ("HRV", "ARM", "2024-08", "monthly", "exporter_reported", 62592, "EUR", "real"),
    ]


def test_the_roundabout_of_the_written_spreadsheet(comext_build):
    # Germany's processors (854231, CHPL tier 1) to Russia fell from 1000 to 200 EUR between March 2021 and
    # March 2022 (-80%), and to Kazakhstan rose from 50 to 400 (+700%): the roundabout in one CN8 code.
    rows = comext_build.query_build(
        "SELECT destination_group, product_group, before_value, after_value, round(change_share, 4), "
        "strftime(before_start, '%Y-%m'), strftime(after_end, '%Y-%m') FROM marts.roundabout "
        "WHERE data_status = 'real' AND exporter_iso3 = 'DEU' AND currency = 'EUR' ORDER BY ALL")
    assert rows == [
        ("neighbours", "chpl", 50, 400, 7.0, "2021-03", "2022-03"),
        ("target", "chpl", 1000, 200, -0.8, "2021-03", "2022-03"),
    ]


def test_a_real_spreadsheet_of_eurostat(shared_data, tmp_path):
    """The smallest of the 22 spreadsheets behind V. Zemlys-Balevičius's reading (January 2023)."""
    source = shared_data / "real-trade" / "comext-xlsx-sanctioned-eu27-rus-neighbours" / "22_4624885_spreadsheet.xlsx"
    seeds = tmp_path / "seeds"
    (seeds / COMEXT).mkdir(parents=True)
    shutil.copy(source, seeds / COMEXT / source.name)
    (chunk,) = comext.read(seeds / COMEXT / source.name, seeds).chunks()
    rows = chunk.rows.with_columns(pl.col("value").cast(pl.Float64))
    # Austria's exports of sauces (CN 21039090) to Armenia in January 2020: the sheet's first value cell, 8,813 EUR
    first = rows.filter(pl.col("exporter_iso3") == "AUT", pl.col("importer_iso3") == "ARM", pl.col("period") == "2020-01",
                        pl.col("hs_code") == "21039090")
    assert first["value"].to_list() == [8813.0] and first["hs_edition"].to_list() == ["HS2017"]
    assert set(rows["importer_iso3"]) <= {"RUS", "BLR", "ARM", "GEO", "KAZ", "KGZ", "UZB"}
    # every member state but Malta, which exported none of these 33 codes to the seven partners
    assert rows["exporter_iso3"].n_unique() == 26 and "MLT" not in rows["exporter_iso3"] and chunk.rejected.height == 0
    # every cell is a record: 33 CN8 sheets x 27 reporters x 7 partners x 36 months, 9,295 of them with a value
    assert (rows.height, rows.height + chunk.skipped) == (9295, 33 * 27 * 7 * 36)
    assert set(chunk.skip_reasons) == {comext.SKIP_MISSING}


def test_eric_dors_figures_from_two_real_relational_view_files(shared_data, tmp_path):
    """Eric Dor (IÉSEG, 2023): EU27 exports to Russia fell by 34 bn EUR (-38%) from 2021 to 2022; to
    Kyrgyzstan they rose by 345%."""
    folder = shared_data / "real-trade" / "comext-relational-view" / "eu_year_export"
    seeds = tmp_path / "seeds"
    (seeds / COMEXT).mkdir(parents=True)
    for stamp in ("2024-11-17T08_31_35.486Z", "2024-11-17T08_31_40.163Z"):  # the 2021 and 2022 downloads
        shutil.copy(folder / f"Relational_View_{stamp}.csv", seeds / COMEXT)
    totals = pl.concat(
        chunk.totals for path in comext.files(seeds / COMEXT) for chunk in comext.read(path, seeds).chunks()
    ).filter(pl.col("exporter_iso3") == "EU27")
    by = {(p, y): v for p, y, v in totals.group_by("importer_iso3", "period").agg(pl.col("value").sum()).iter_rows()}
    assert round((by["RUS", "2022"] - by["RUS", "2021"]) / 1e9, 1) == -34.2
    assert round(by["RUS", "2022"] / by["RUS", "2021"] - 1, 2) == -0.38
    assert round(by["KGZ", "2022"] / by["KGZ", "2021"] - 1, 2) == 3.45
