"""The bad-input suite: one hand-made fault per case, each in a private copy of the shipped seeds,
read and checked by the pipeline's own code against the shipped reference tables.

Every case asserts what an analyst relies on: the message (a file-level fault) or the quarantine
record (a row-level one) names the file, the line, the column and the rule; the accounting
identity holds (rows read = rows loaded + rows kept aside); and every row the fault did not touch
still arrives. Two real Dagster runs at the end take all faults of each kind at once, and check the
published warehouse: replaced when rows were only kept aside, untouched when a file was refused."""

import codecs
import datetime as dt
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipeline.assets.core import files_of
from pipeline.contract import Checked
from pipeline.months import Window
from pipeline.seedfile import LAYOUT, ROW_NUMBER, SOURCE_FILE, SeedFileError, parse_rows, read_rectangular, seed_files
from schemas import TRADE_FLOWS
from tests.conftest import SHIPPED_SEEDS, check_file, materialize
from tests.seededit import read_rows, set_cell, write_rows

TF = "trade_flows/2019-03.csv"  # the trade-flow file most cases break
ROW = 4  # the data row they break: line 6 of its file
LINE = ROW + 2
TEN_MB = 10 * 1024 * 1024

Edit = Callable[[Path], None]


def cell(column: str, value: str, row: int = ROW) -> Edit:
    return lambda path: set_cell(path, row, column, value)


def text_edit(change: Callable[[str], str]) -> Edit:
    return lambda path: path.write_bytes(change(path.read_text(encoding="utf-8")).encode("utf-8"))


def bytes_edit(change: Callable[[bytes], bytes]) -> Edit:
    return lambda path: path.write_bytes(change(path.read_bytes()))


def line_edit(line: int, change: Callable[[str], str]) -> Edit:
    """Change one physical line (1 = the header) of the file as written."""

    def edit(path: Path) -> None:
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[line - 1] = change(lines[line - 1])
        path.write_text("\n".join(lines), encoding="utf-8")

    return edit


def latin1_on_line(line: int) -> Edit:
    """A name on `line` saved in Latin-1 (é as the single byte 0xE9), the rest of the file UTF-8."""

    def edit(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        lines[line - 1] = lines[line - 1].removesuffix(b",,,") + ",Société Générale,,".encode("latin-1")
        path.write_bytes(b"\n".join(lines))

    return edit


# The sample's `source` cell is quoted (it holds a comma): without it a file takes the fast,
# quote-free path through polars instead of the csv module.
unquoted = text_edit(lambda t: re.sub(r'"[^"]*"', "illustrative sample", t))


def both(*edits: Edit) -> Edit:
    def edit(path: Path) -> None:
        for one in edits:
            one(path)

    return edit


def duplicate_key(path: Path) -> None:
    """Row ROW repeats row ROW - 1 exactly."""
    header, rows = read_rows(path)
    rows[ROW] = dict(rows[ROW - 1])
    write_rows(path, header, rows)


def drop_column(column: str) -> Edit:
    def edit(path: Path) -> None:
        header, rows = read_rows(path)
        write_rows(path, [h for h in header if h != column], [{k: v for k, v in r.items() if k != column} for r in rows])

    return edit


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # relative to the seeds folder
    edit: Edit
    # "file": the file is refused, the message matching `expect`; "row": row(s) kept aside, one of
    # them at `line` with `column` and a rule matching `expect`; "clean": every row loads as before.
    outcome: str
    expect: str = ""
    line: int | None = LINE
    column: str | None = None


def refused(id: str, file: str, edit: Edit, expect: str, line: int | None = None) -> Case:
    return Case(id, file, edit, "file", expect, line)


def kept_aside(id: str, file: str, edit: Edit, column: str | None, expect: str, line: int = LINE) -> Case:
    return Case(id, file, edit, "row", expect, line, column)


def loads(id: str, file: str, edit: Edit) -> Case:
    return Case(id, file, edit, "clean", line=None)


CASES = [
    # --- encodings, line ends, bytes -------------------------------------------------------------
    refused("utf16_le", TF, bytes_edit(lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le")), "UTF-16"),
    refused("utf16_be", TF, bytes_edit(lambda b: codecs.BOM_UTF16_BE + b.decode().encode("utf-16-be")), "UTF-16"),
    refused("utf32", TF, bytes_edit(lambda b: b.decode().encode("utf-32")), "UTF-32"),
    refused("latin1_byte", TF, latin1_on_line(LINE), r"not valid UTF-8 \(line 6, byte \d+: b'\\xe9'\)"),
    refused("gzip_named_csv", TF, bytes_edit(lambda b: b"\x1f\x8b\x08\x00" + b[:50]), "not a CSV file but gzip-compressed"),
    refused("xlsx_named_csv", TF, bytes_edit(lambda b: b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U"), r"not a CSV file but a ZIP archive \(an Excel .xlsx workbook\?\)"),
    refused("xls_named_csv", TF, bytes_edit(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40), "an Excel 97-2003 .xls workbook"),
    loads("utf8_bom", TF, bytes_edit(lambda b: codecs.BOM_UTF8 + b)),
    loads("crlf_line_ends", TF, bytes_edit(lambda b: b.replace(b"\n", b"\r\n"))),
    loads("cr_only_line_ends", TF, bytes_edit(lambda b: b.replace(b"\n", b"\r"))),
    loads("no_final_newline", TF, bytes_edit(lambda b: b.rstrip(b"\n"))),
    loads("blank_lines_between_rows", TF, text_edit(lambda t: t.replace("\n", "\n\n\n", 3))),
    kept_aside("bom_then_bad_value", TF, both(bytes_edit(lambda b: codecs.BOM_UTF8 + b), cell("value", "abc")), "value", "type: not a number"),
    kept_aside("crlf_then_bad_value", TF, both(cell("value", "abc"), bytes_edit(lambda b: b.replace(b"\n", b"\r\n"))), "value", "type: not a number"),
    kept_aside("cr_only_then_bad_value", TF, both(cell("value", "abc"), bytes_edit(lambda b: b.replace(b"\n", b"\r"))), "value", "type: not a number"),
    kept_aside("line_after_a_quoted_newline", TF, both(cell("exporter_name", "Line one\nline two", row=1), cell("value", "abc")), "value", "type: not a number", LINE + 1),
    kept_aside("line_after_a_quoted_crlf", TF, both(cell("exporter_name", "Line one\r\nline two\r\nthree", row=1), cell("value", "abc")), "value", "type: not a number", LINE + 2),
    kept_aside("nul_in_a_code", TF, cell("hs_code", "1003\x0090"), "hs_code", "str_matches"),
    loads("nul_in_a_name", TF, cell("exporter_name", "Trading\x00House")),
    loads("control_characters_in_a_name", TF, cell("exporter_name", "Bell\x07 escape\x1b[31m tab\t end")),
    loads("right_to_left_override_in_a_name", TF, cell("exporter_name", "\u202eevil\u202c Ltd")),
    loads("cyrillic_and_persian_names", TF, cell("exporter_name", "ООО «Ромашка» / شرکت")),
    loads("ten_megabyte_name", TF, cell("exporter_name", "A" * TEN_MB)),
    kept_aside("ten_megabyte_code", TF, cell("hs_code", "9" * TEN_MB), "hs_code", "str_matches"),
    # --- CSV structure -----------------------------------------------------------------------------
    refused("empty_file", TF, bytes_edit(lambda b: b""), "file is empty"),
    refused("only_blanks", TF, bytes_edit(lambda b: b"  \n\n \r\n"), "file is empty"),
    refused("header_only", TF, text_edit(lambda t: t.split("\n")[0] + "\n"), "has a header but no data rows"),
    refused("header_and_blank_lines", TF, text_edit(lambda t: t.split("\n")[0] + "\n\n\n"), "has a header but no data rows"),
    refused("missing_column", TF, drop_column("hs_code"), r"missing column\(s\): hs_code"),
    refused("unknown_column", TF, line_edit(1, lambda h: h + ",notes"), r"unknown column\(s\): notes"),
    refused("misspelt_column", TF, line_edit(1, lambda h: h.replace("hs_code", "HS_Code")), r"missing column\(s\): hs_code; unknown column\(s\): HS_Code"),
    refused("duplicate_column", TF, line_edit(1, lambda h: h.replace("source", "value")), r"duplicate column\(s\) in header: value"),
    refused("trailing_comma_in_header", TF, line_edit(1, lambda h: h + ","), r"line 1: header column\(s\) 18 of 18 have no name"),
    refused("unterminated_quote", TF, both(unquoted, line_edit(LINE, lambda r: r.replace(",", ',"', 1))), r"line 6: cannot be parsed as CSV: a quoted field opened here is never closed"),
    refused("quote_closed_lines_later", TF, line_edit(LINE, lambda r: r.replace('data",', "data,")), r"line 6: cannot be parsed as CSV: ',' expected after '\"'"),
    refused("text_after_closing_quote", TF, line_edit(LINE, lambda r: r.replace(",importer_reported", ',"importer_reported"x')), r"line 6: cannot be parsed as CSV: ',' expected after '\"'"),
    kept_aside("one_field_too_many", TF, line_edit(LINE, lambda r: r + ",extra"), None, r"layout: 18 fields, the header has 17; beyond the header: extra"),
    kept_aside("fields_missing", TF, line_edit(LINE, lambda r: ",".join(r.split(",")[:5])), None, r"layout: 5 fields, the header has 17"),
    kept_aside("unquoted_comma_in_a_name", TF, line_edit(LINE, lambda r: r.removesuffix(",,,") + ",Acme, Inc,,"), None, r"layout: 18 fields, the header has 17; beyond the header: $"),
    # the same on the quote-free path
    loads("quote_free_file", TF, unquoted),
    loads("quote_free_crlf", TF, both(unquoted, bytes_edit(lambda b: b.replace(b"\n", b"\r\n")))),
    loads("quote_free_blank_lines", TF, both(unquoted, text_edit(lambda t: t.replace("\n", "\n\r\n", 2)))),
    kept_aside("quote_free_bad_value", TF, both(cell("value", "abc"), unquoted), "value", "type: not a number"),
    kept_aside("quote_free_one_field_too_many", TF, both(unquoted, line_edit(LINE, lambda r: r + ",x,y")), None, r"layout: 19 fields, the header has 17; beyond the header: x,y"),
    kept_aside("quote_free_one_field", TF, both(unquoted, line_edit(LINE, lambda r: r.split(",")[0])), None, r"layout: 1 field, the header has 17$"),
    kept_aside("one_field", TF, line_edit(LINE, lambda r: r.split(",")[0]), None, r"layout: 1 field, the header has 17$"),
    kept_aside("quote_free_fields_missing", TF, both(unquoted, line_edit(LINE, lambda r: ",".join(r.split(",")[:3]))), None, r"layout: 3 fields, the header has 17$"),
    kept_aside("quote_free_comma_in_a_name", TF, both(unquoted, line_edit(LINE, lambda r: r.removesuffix(",,,") + ",Acme, Inc,,")), None, r"layout: 18 fields, the header has 17; beyond the header: $"),
    kept_aside("stray_quote_inside_a_value", TF, cell("hs_code", '10"0390'), "hs_code", "str_matches"),
    # --- numbers ----------------------------------------------------------------------------------
    kept_aside("value_nan", TF, cell("value", "NaN"), "value", r"greater_than_or_equal_to\(0\)|less_than\(1000000000000000\.0\)"),
    kept_aside("value_inf", TF, cell("value", "inf"), "value", r"less_than\(1000000000000000\.0\)"),
    kept_aside("value_minus_inf", TF, cell("value", "-inf"), "value", r"greater_than_or_equal_to\(0\)"),
    kept_aside("value_1e309", TF, cell("value", "1e309"), "value", r"less_than\(1000000000000000\.0\)"),
    kept_aside("value_1e20", TF, cell("value", "1e20"), "value", r"less_than\(1000000000000000\.0\)"),
    kept_aside("value_negative", TF, cell("value", "-5"), "value", r"greater_than_or_equal_to\(0\)"),
    # 9e12 troy ounces is more gold than was ever mined: its dollars would overflow value_usd, so it is named
    kept_aside("value_of_gold_beyond_any_trade", TF, lambda path: (cell("currency", "XAU")(path), cell("value", "9e12")(path)),
               "value", r"value in USD would reach \d+ at the highest XAU rate: at most 1e15 USD per flow"),
    kept_aside("value_thousands_separator", TF, cell("value", "1,234.50"), "value", "type: not a number"),
    kept_aside("value_space_separator", TF, cell("value", "1 234"), "value", "type: not a number"),
    kept_aside("value_decimal_comma", TF, cell("value", "12,5"), "value", "type: not a number"),
    kept_aside("value_currency_sign", TF, cell("value", "$300"), "value", "type: not a number"),
    kept_aside("value_empty", TF, cell("value", ""), "value", "not_nullable"),
    kept_aside("value_blank", TF, cell("value", "   "), "value", "not_nullable"),
    loads("value_padded_with_spaces", TF, cell("value", "  307290.36  ")),
    kept_aside("quantity_negative", TF, cell("quantity_kg", "-1"), "quantity_kg", r"greater_than_or_equal_to\(0\)"),
    kept_aside("quantity_text", TF, cell("quantity_kg", "about 5 t"), "quantity_kg", "type: not a number"),
    # --- codes, dates, references --------------------------------------------------------------------
    kept_aside("period_month_13", TF, cell("period", "2019-13"), "period", "str_matches"),
    kept_aside("period_slashes", TF, cell("period", "2019/03"), "period", "str_matches"),
    kept_aside("period_other_month", TF, cell("period", "2019-04"), "period", "period is the month in the file's name"),
    kept_aside("exporter_unknown", TF, cell("exporter_iso3", "XXX"), "exporter_iso3", "iso3_country"),
    kept_aside("exporter_lower_case", TF, cell("exporter_iso3", "rus"), "exporter_iso3", "iso3_country"),
    kept_aside("exporter_two_letters", TF, cell("exporter_iso3", "RU"), "exporter_iso3", "iso3_country"),
    kept_aside("exporter_is_importer", TF, both(cell("exporter_iso3", "IRN"), cell("importer_iso3", "IRN")), "importer_iso3", "exporter_differs_from_importer"),
    kept_aside("hs_code_too_short", TF, cell("hs_code", "1"), "hs_code", "str_matches"),
    kept_aside("hs_code_with_a_dot", TF, cell("hs_code", "1003.90"), "hs_code", "str_matches"),
    kept_aside("hs_code_new_in_hs2022_before_2022", TF, both(cell("hs_code", "851713"), cell("hs_edition", "HS2017")), "hs_code", "code exists only from HS 2022"),
    kept_aside("hs_edition_unknown", TF, cell("hs_edition", "HS1992"), "hs_edition", "isin"),
    kept_aside("currency_unknown", TF, cell("currency", "XYZ"), "currency", r"^references ref\.fx_rates\.currency$"),
    kept_aside("currency_without_rates", TF, cell("currency", "KZT"), "currency", r"no FX rate for KZT|fx_rates"),
    kept_aside("flow_id_with_spaces", TF, cell("flow_id", "S2019 03 bad"), "flow_id", "str_matches"),
    kept_aside("flow_id_twice_in_a_file", TF, duplicate_key, "flow_id", "field_uniqueness"),
    kept_aside("corridor_unknown", TF, cell("corridor_id", "atlantis"), "corridor_id", "corridors"),
    kept_aside("channel_unknown", TF, cell("channel_id", "bitcoin_atm"), "channel_id", "payment_channels"),
    kept_aside("basis_unknown", TF, cell("basis", "guessed"), "basis", "isin"),
    kept_aside("vessel_imo_short", TF, cell("vessel_imo", "IMO123"), "vessel_imo", "str_matches"),
    loads("vessel_imo_bare_seven_digits", TF, cell("vessel_imo", "9116412")),  # as shipping data write it; check digit 2 holds
    kept_aside("vessel_imo_wrong_check_digit", TF, cell("vessel_imo", "9116413"), "vessel_imo", "imo_check_digit"),
    # --- reference seeds -------------------------------------------------------------------------------
    kept_aside("fx_rate_zero", "fx_rates.csv", cell("usd_per_unit", "0"), "usd_per_unit", r"greater_than\(0\)"),
    kept_aside("fx_rate_negative", "fx_rates.csv", cell("usd_per_unit", "-0.01"), "usd_per_unit", r"greater_than\(0\)"),
    kept_aside("fx_date_30_february", "fx_rates.csv", cell("date", "2019-02-30"), "date", r"type: not a date"),
    kept_aside("fx_date_day_first", "fx_rates.csv", cell("date", "01/03/2019"), "date", r"type: not a date"),
    kept_aside("fx_rate_type_unknown", "fx_rates.csv", cell("rate_type", "black_market"), "rate_type", "isin"),
    kept_aside("fx_duplicate_rate", "fx_rates.csv", duplicate_key, None, r"unique|duplicate"),
    kept_aside("measure_date_31_april", "sanctions_measures.csv", cell("effective_from", "2022-04-31"), "effective_from", "type: not a date"),
    kept_aside("measure_ends_before_it_starts", "sanctions_measures.csv", both(cell("effective_from", "2022-06-03"), cell("effective_to", "2022-06-02")), "effective_to", "effective_to_after_from"),
    kept_aside("measure_direction_unknown", "sanctions_measures.csv", cell("direction", "sideways"), "direction", "isin"),
    kept_aside("measure_target_country_unknown", "sanctions_measures.csv", cell("target_country", "XXX"), "target_country", "iso3_country"),
    kept_aside("channel_dollar_clearing_maybe", "payment_channels.csv", cell("dollar_clearing", "maybe"), "dollar_clearing", "type: not true/false"),
    kept_aside("allocation_share_above_1", "allocation_rules.csv", cell("share", "1.5"), "share", r"less_than_or_equal_to\(1\)|shares_of_key_sum_to_1"),
    kept_aside("claim_value_text", "claims.csv", cell("value", "about 5 bn"), "value", "type: not a number"),
    kept_aside("jurisdiction_unknown_country", "jurisdictions.csv", cell("country_iso3", "XXX"), "country_iso3", "iso3_country"),
    kept_aside("category_dual_use_maybe", "goods_categories.csv", cell("dual_use", "maybe"), "dual_use", "type: not true/false"),
    kept_aside("chpl_five_digit_code", "chpl.csv", cell("hs6", "12345"), "hs6", "str_matches"),
    kept_aside("hs_prefix_unknown_category", "hs_categories.csv", cell("category_id", "unicorns"), "category_id", "goods_categories"),
    kept_aside("corridor_leg_latitude_91", "corridor_legs.csv", cell("from_lat", "91"), "from_lat", r"less_than_or_equal_to\(90\)|in_range"),
]


@pytest.fixture(scope="module")
def baselines(reference) -> dict[str, Checked]:
    """Each file as shipped: every row loads."""
    return {file: check_file(SHIPPED_SEEDS, file, reference) for file in sorted({c.file for c in CASES})}


def comparable(frame: pl.DataFrame) -> set[tuple]:
    """Rows as values, without where they sit in the file (a quoted newline moves the lines after it)
    and without `source` (the quote-free cases rewrite it)."""
    return set(frame.drop(SOURCE_FILE, ROW_NUMBER, "source").rows())


def test_the_three_readers_of_a_file_give_the_same_rows(tmp_path):
    """polars' CSV reader (quote-free, every line a full row), the line split (quote-free with odd lines)
    and the csv module (quoted cells) read the same content into the same cells and lines."""
    text = re.sub(r'"[^"]*"', "illustrative sample", (SHIPPED_SEEDS / TF).read_text(encoding="utf-8"))
    header = text.split("\n", 1)[0].split(",")
    path = tmp_path / "2019-03.csv"
    rectangular = read_rectangular(text.encode(), 1, header)
    assert rectangular is not None and rectangular.height > 10 and rectangular[LAYOUT].null_count() == rectangular.height
    assert (rectangular.filter(pl.col("corridor_id") == "").height > 0), "empty cells stay empty text, as on the other paths"
    split = parse_rows(path, (text + "\n\n").encode(), 1, header)  # a blank line at the end: the line split
    quoted = parse_rows(path, text.replace(",illustrative sample,", ',"illustrative sample",').encode(), 1, header)  # csv module
    assert rectangular.equals(split) and rectangular.equals(quoted)
    lines = text.split("\n")
    for odd, what in ((lines[3] + ",x", "more"), (lines[3].replace(",", "", 1), "fewer")):
        odd_text = "\n".join([*lines[:3], odd, *lines[4:]])
        assert read_rectangular(odd_text.encode(), 1, header) is None, f"a line with {what} fields is not rectangular"
        assert parse_rows(path, odd_text.encode(), 1, header)[LAYOUT][2].startswith("layout: "), "the line split names it"


def test_the_suite_has_at_least_60_distinct_cases():
    assert len({c.id for c in CASES}) == len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_named_and_loses_nothing(case, seeds, reference, baselines):
    path = seeds / case.file
    case.edit(path)
    before = baselines[case.file]
    assert before.rows_quarantined == 0
    if case.outcome == "file":
        with pytest.raises(dg.Failure) as failure:
            check_file(seeds, case.file, reference)
        message = failure.value.description
        assert message.startswith(f"{path}: ") and re.search(case.expect, message), message
        assert "Traceback" not in message and "\n" not in message
        return

    after = check_file(seeds, case.file, reference)
    kept = after.quarantine.select(SOURCE_FILE, ROW_NUMBER).unique()
    assert after.rows_read == after.good.height + kept.height, "rows read = rows loaded + rows kept aside"
    assert len(comparable(after.good) - comparable(before.good)) <= 1, "no row but the edited one arrives changed"
    if case.outcome == "clean":
        assert after.quarantine.height == 0, after.quarantine.to_dicts()
        assert after.good.height == before.good.height
        return
    assert after.good.height == before.good.height - kept.height, "every untouched row arrives"
    named = after.quarantine.filter(
        (pl.col(SOURCE_FILE) == case.file) & (pl.col(ROW_NUMBER) == case.line)
        & (pl.col("column_name").eq_missing(case.column)) & pl.col("rule").str.contains(case.expect)
    )
    assert named.height >= 1, after.quarantine.select(ROW_NUMBER, "column_name", "rule", "bad_value").to_dicts()


def symlink_loop(path: Path) -> None:
    path.symlink_to(path.name)


def baci_file(path: Path) -> None:
    path.write_text("t,i,j,k,v,q\n2021,643,364,100199,12.5,30\n", encoding="utf-8")


FOLDER_CASES = {  # an entry of seeds/trade_flows/ → what the refusal says
    "2019-02-loop.csv": (symlink_loop, "cannot be opened: Too many levels of symbolic links"),
    "2019-02-gone.csv": (lambda path: path.symlink_to("nowhere.csv"), "cannot be opened: No such file or directory"),
    "2019-02-folder.csv": (Path.mkdir, r"not a regular file \(a folder or a device named \.csv\)"),
    "march.csv": (lambda path: shutil.copy(SHIPPED_SEEDS / TF, path), r"name trade-flow files by their month, YYYY-MM\*\.csv"),
    "2031-01.csv": (lambda path: shutil.copy(SHIPPED_SEEDS / TF, path), r"month 2031-01 is outside the months 2017-01\.\.2024-12"),
    "2021-baci.csv": (baci_file, r"a CEPII BACI file: put it, unchanged, in .*/imports/baci/"),
    "2019-02-elsewhere.csv": (lambda path: path.symlink_to(secret_file(path.parents[2])), "a link to a file outside the seeds folder"),
}
SECRET = "root:$6$secret-hash:19000:0:99999:7:::"


def secret_file(folder: Path) -> Path:
    """A file in `folder`, outside the seeds folder, like /etc/shadow: its line must never reach a message."""
    outside = folder / "outside.csv"
    outside.write_text(SECRET + "\n", encoding="utf-8")
    return outside


@pytest.mark.parametrize("entry", FOLDER_CASES)
def test_a_bad_entry_in_the_trade_flow_folder_is_named(entry, seeds):
    make, expect = FOLDER_CASES[entry]
    make(seeds / TRADE_FLOWS.path / entry)
    every_month = Window(dt.date(2017, 1, 1), dt.date(2025, 1, 1), full=True)
    with pytest.raises(SeedFileError) as fault:
        files_of(seeds, every_month)
    assert str(fault.value).startswith(f"{seeds / TRADE_FLOWS.path / entry}: "), fault.value
    assert re.search(expect, str(fault.value)), fault.value
    assert "secret" not in str(fault.value) and "outside.csv" not in str(fault.value)


@pytest.mark.parametrize("relative", ["fx_rates.csv", "imports/baci/BACI_HS17_Y2017-2023_V202501_CHN_RUS.csv",
                                      "imports/baci/country_codes_V202501.csv", "lists/eu-hs6/EU_sanctions_HS6.csv"])
def test_a_seed_or_import_linked_outside_the_seeds_is_refused_by_name_unread(relative, seeds, tmp_path):
    (seeds / relative).unlink()
    (seeds / relative).symlink_to(secret_file(seeds.parent))
    build = materialize(seeds, tmp_path / "detour.duckdb")
    failures = " ".join(build.failures())
    assert f"{seeds / relative}: a link to a file outside the seeds folder" in failures
    assert "secret" not in failures and not build.succeeded("published_warehouse")


def test_a_reference_seed_that_is_a_looping_link_is_named(seeds):
    (seeds / "chpl.csv").unlink()
    symlink_loop(seeds / "chpl.csv")
    with pytest.raises(SeedFileError, match=r"chpl\.csv: cannot be opened: Too many levels of symbolic links"):
        seed_files(seeds, "chpl.csv")


def apply_each_to_its_own_file(seeds: Path, cases: list[Case]) -> dict[str, Case]:
    """Each trade-flow case applied to a month file of its own (one fault per file). Returns file → case."""
    months = sorted(p.name for p in (seeds / TRADE_FLOWS.path).glob("20*.csv") if p.name != Path(TF).name)
    placed = {}
    for case, month in zip(cases, months, strict=False):
        file = f"{TRADE_FLOWS.path}/{month}"
        period = month.removesuffix(".csv")
        edit = case.edit
        if case.id == "period_other_month":  # its month is relative to the file's
            edit = cell("period", f"{period[:4]}-{'02' if period[5:] != '02' else '03'}")
        edit(seeds / file)
        placed[file] = case
    return placed


def published_state(warehouse: Path) -> tuple[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        log = con.execute("SELECT run_id, mart, rows, checksum FROM quality.publish_log ORDER BY ALL").fetchall()
    return os.readlink(warehouse.with_name("detour.current")), log


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, Path]:
    """Shipped seeds built and published once: (seeds, warehouse) for runs that follow with faults."""
    root = tmp_path_factory.mktemp("faults")
    seeds = Path(shutil.copytree(SHIPPED_SEEDS, root / "seeds"))
    warehouse = root / "w" / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    return seeds, warehouse


def test_row_faults_in_one_run_are_each_named_and_every_file_balances(published, tmp_path, monkeypatch):
    # 45 rows of 100,000 (0.045%): under the default limits they would publish; a row limit of 0.01% stops them
    monkeypatch.setenv("DETOUR_MAX_QUARANTINED_ROW_SHARE", "0.0001")
    seeds = Path(shutil.copytree(published[0], tmp_path / "seeds"))
    warehouse = tmp_path / "w" / "detour.duckdb"
    shutil.copytree(published[1].parent, warehouse.parent, symlinks=True)
    before = published_state(warehouse)
    row_cases = sorted(  # the HS 2022 case needs a month before 2022: the earliest files come first
        (c for c in CASES if c.file == TF and c.outcome == "row" and "quoted" not in c.id), key=lambda c: "hs2022" not in c.id
    )
    placed = apply_each_to_its_own_file(seeds, row_cases)
    assert len(placed) == len(row_cases)

    build = materialize(seeds, warehouse)

    for file, case in placed.items():
        named = build.query(
            "SELECT count(*) FROM quality.quarantine WHERE source_file = ? AND row_number = ? "
            "AND column_name IS NOT DISTINCT FROM ? AND regexp_matches(rule, ?)",
            [file, case.line, case.column, case.expect], published=False,
        )
        assert named == [(1,)] or named[0][0] >= 1, (case.id, file)
    unbalanced = build.query(
        "SELECT source_file FROM quality.load_audit_latest WHERE rows_read <> rows_loaded + rows_quarantined + rows_skipped",
        published=False,
    )
    assert unbalanced == []
    assert build.succeeded("core__trade_flows")
    # These faults keep aside more rows than DETOUR_MAX_QUARANTINED_ROW_SHARE allows here: the blocking
    # check names the shares and the warehouse analysts query is the previous one, untouched.
    assert not build.succeeded("published_warehouse")
    evaluation = next(
        e.event_specific_data for e in build.result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and e.event_specific_data.check_name == "kept_aside_within_limit"
    )
    assert not evaluation.passed and re.search(r"USD of flows kept aside", evaluation.description), evaluation.description
    assert not re.search(r"\bnan\b|\binf\b", evaluation.description), evaluation.description  # value_inf among the faults
    assert published_state(warehouse) == before


def test_file_faults_in_one_run_are_each_named_and_nothing_is_published(published, tmp_path):
    seeds = Path(shutil.copytree(published[0], tmp_path / "seeds"))
    warehouse = tmp_path / "w" / "detour.duckdb"
    shutil.copytree(published[1].parent, warehouse.parent, symlinks=True)
    before = published_state(warehouse)
    file_cases = [c for c in CASES if c.file == TF and c.outcome == "file"]
    placed = apply_each_to_its_own_file(seeds, file_cases)

    build = materialize(seeds, warehouse)
    lines = build.failure("core__trade_flows").split("\n")
    assert len(lines) == len(placed), lines
    for file, case in placed.items():
        line = next(line for line in lines if line.startswith(f"{seeds / file}: "))
        assert re.search(case.expect, line), (case.id, line)
    assert not build.succeeded("published_warehouse") and published_state(warehouse) == before

    # one refused file in each of two reference seeds: the reference step tries every seed and names both
    by_seed = {
        "chpl.csv": (bytes_edit(lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le")), "UTF-16"),
        "claims.csv": (line_edit(1, lambda h: h + ","), "line 1: header column"),
    }
    for file, (edit, _) in by_seed.items():
        edit(seeds / file)
    build = materialize(seeds, warehouse)
    lines = build.failure("reference_tables").split("\n")
    for file, (_, expect) in by_seed.items():
        assert any(line.startswith(f"{seeds / file}: ") and expect in line for line in lines), lines
    assert build.succeeded("reference_tables") is False and not build.succeeded("published_warehouse")
    assert published_state(warehouse) == before
