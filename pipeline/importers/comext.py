"""Eurostat Comext (dataset DS-045409, "EU trade since 1988 by HS2-4-6 and CN8") as the Eurostat data
browser downloads it, taken unchanged, in either layout:

- the spreadsheet (.xlsx): one sheet per product, a header block naming PRODUCT (`label [code]`), FLOW
  and INDICATORS (VALUE_IN_EUROS), a TIME row of periods as columns, then one row per reporter and
  partner; `:` marks a value not available. Read with polars' own Excel reader (engine calamine).
- the relational-view CSV: REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR, with labels
  only (`"Croatia","Armenia","Total","EXPORT","Total","Aug. 2024"`) or code-label values (`2-EXPORT`,
  `202408-Aug. 2024`, annual `201952-Jan.-Dec. 2019`), in English or French.

Every value cell is one record. Reporters and partners are mapped from their labels (English and French)
or codes to ISO alpha-3 through eurostat_geo.csv beside this module (the 428 labels of the data browser's
downloads, matched to ISO 3166 by their English and French names, UN and ISO, and the rest by hand; Kosovo is
XKX, as the EU writes it); an aggregate reporter (EU27, euro
area EA20, the EU and euro area of their time) is kept under its bloc code only where the import holds no
member-state rows of the same partner, product and period. A CN8 code stays the flow's code (its HS6 is
its first six digits) in the HS edition of its period: the CN of 2017-2021 is built on HS 2017, from 2022
on HS 2022. A product code with a longer code of the import beneath it (a CN4 heading above CN8 rows) is
skipped, never added to them. Total-goods rows are no product flow: they go to core.trade_totals.
EU exports are exporter_reported (the reporter exports), imports importer_reported; values stay in EUR.

What is left out by design is counted with its reason (rows_skipped); what cannot be read is kept aside
with file, record, column and rule."""

import csv
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import pycountry

from pipeline.importers import Chunk, flow_columns, ImportedFile, Reason, any_of, header_of, rejected_rows, relative_name, sha256_of
from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, SeedFileError
from schemas.columns import BLOCS

FOLDER = "imports/comext"
LABEL = "Eurostat Comext"
SOURCE = "Eurostat, Comext DS-045409 (EU trade since 1988 by HS2-4-6 and CN8), data browser download"
RELATIONAL = ["REPORTER", "PARTNER", "PRODUCT", "FLOW", "STAT_PROCEDURE", "PERIOD"]
VALUE_COLUMNS = ("VALUE_IN_EUR", "VALUE_IN_EUROS")
GEO_FILE = Path(__file__).with_name("eurostat_geo.csv")
# Eurostat's own two-letter codes where they are not ISO 3166 alpha-2 (Comext writes Greece GR, Eurostat EL)
GEO_CODES = {"EL": "GRC", "GR": "GRC", "UK": "GBR", "GB": "GBR", "XK": "XKX",
             "EU27_2020": "EU27", "EU27": "EU27", "EA20": "EA20", "EA": "EA", "EU": "EU"}
FLOWS = {"EXPORT": "exporter_reported", "EXPORTATION": "exporter_reported", "2": "exporter_reported",
         "IMPORT": "importer_reported", "IMPORTATION": "importer_reported", "1": "importer_reported"}
MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
TOTALS = {"TOTAL", "TOTAL GOODS", "T"}
FIRST_LINKED_YEAR = 2017  # the CN of 2017 is the first built on HS 2017, the oldest edition the concordance links
HS2022_YEAR = 2022
# Records: one per value cell, every field as text, with where it stands in its file.
RECORD = {"reporter": pl.String, "partner": pl.String, "product": pl.String, "flow": pl.String,
          "procedure": pl.String, "indicator": pl.String, "period": pl.String, "value": pl.String,
          "place": pl.String, ROW_NUMBER: pl.Int64}
NATIVE = ["reporter", "partner", "product", "flow", "procedure", "indicator", "period", "value", "place"]

SKIP_MISSING = "no value (':' not available, or empty)"
SKIP_PROCEDURE = "a statistical procedure breakdown: only the total of all procedures is kept"
SKIP_PARTNER_AGGREGATE = "partner is an aggregate (extra- or intra-EU): the sum of the country rows"
SKIP_NOT_COUNTRY = "partner is not a country (not specified, confidential, high seas, stores and provisions)"
SKIP_AGGREGATE_REPORTER = "aggregate reporter beside member-state rows of the same partner, product and period"
SKIP_HEADING = "a heading above longer codes of the same import (CN4 above CN8): never added to them"


@dataclass(frozen=True)
class Geo:
    code: str | None
    kind: str  # country, bloc, partner_aggregate, not_a_country


@cache
def geo_labels(language: str) -> dict[str, Geo]:
    """Labels of Eurostat's geography in English and French, and those a French download uses otherwise
    (its `Guinea` is not Guinea, whose French label is Guinée: kept aside as ambiguous)."""
    with open(GEO_FILE, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    labels = {row["label"]: Geo(row["code"] or None, row["kind"]) for row in rows if not row["language"]}
    return labels | {row["label"]: Geo(None, row["kind"]) for row in rows if row["language"] == language}


@cache
def short_labels(language: str) -> dict[str, Geo]:
    """Countries by their label without the note in brackets, where that name is one country's alone."""
    names: dict[str, set] = {}
    for label, found in geo_labels(language).items():
        if found.kind == "country":
            names.setdefault(re.sub(r"\s*\(.*\)\s*$", "", label), set()).add(found.code)
    return {name: Geo(codes.pop(), "country") for name, codes in names.items() if len(codes) == 1}


def geo(value: str | None, language: str = "en") -> Geo | None:
    """A reporter or partner as Eurostat writes it: a label, a code, or `code-label`."""
    if value is None:
        return None
    text = value.strip()
    labels = geo_labels(language)
    if text in labels:
        return labels[text]
    # a country's label with another history note beside it ("France (incl. …)"): its name decides
    name = re.sub(r"\s*\(.*\)\s*$", "", text)
    if name != text and (found := short_labels(language).get(name)):
        return found
    code, _, label = text.partition("-")
    if label and label.strip() in labels:
        return labels[label.strip()]
    code = code.strip().upper()
    if code in GEO_CODES:
        mapped = GEO_CODES[code]
        return Geo(mapped, "bloc" if mapped in BLOCS else "country")
    if re.fullmatch(r"[A-Z]{2}", code):
        country = pycountry.countries.get(alpha_2=code)
        if country:
            return Geo(country.alpha_3, "country")
    return None


def product_code(value: str | None) -> str | None:
    """The product's code: `label [85423190]` (spreadsheet), `85423190-label` or `85423190` (CSV);
    TOTAL for total goods; None when the label carries no code."""
    if value is None:
        return None
    text = value.strip()
    bracket = re.search(r"\[([0-9A-Za-z]+)\]\s*$", text)
    code = bracket.group(1) if bracket else re.split(r"\s*-\s*", text, maxsplit=1)[0].strip()
    if code.upper() in TOTALS or text.casefold() in ("total", "total goods"):
        return "TOTAL"
    return code if re.fullmatch(r"\d{2}(\d{2}){0,3}", code) else None


def period_of(value: str | None) -> str | None:
    """YYYY-MM of a month, YYYY of a year, from `2020-01`, `Aug. 2024`, `202408-Aug. 2024`, `2019`,
    `Jan.-Dec. 2019` or `201952-Jan.-Dec. 2019` (Comext's code for a year is YYYY52)."""
    if value is None:
        return None
    text = value.strip()
    if m := re.fullmatch(r"(\d{4})-?(0[1-9]|1[0-2])", text):
        return f"{m.group(1)}-{m.group(2)}"
    if m := re.fullmatch(r"(\d{4})(52)?", text):
        return m.group(1)
    code, _, label = text.partition("-") if re.match(r"\d{6}-", text) else ("", "", text)
    if m := re.fullmatch(r"jan\.?\s*-\s*dec\.?\s+(\d{4})", label.strip(), re.IGNORECASE):
        return m.group(1)
    if m := re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{4})", label.strip(), re.IGNORECASE):
        month = MONTHS.get(m.group(1).casefold())
        return f"{m.group(2)}-{month}" if month else None
    return None


def flow_basis(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().upper()
    return FLOWS.get(text) or FLOWS.get(text.split("-", 1)[0]) or FLOWS.get(text.split("-", 1)[-1])


def total_procedure(value: str | None) -> bool:
    """The total of all statistical procedures (`Total`, `T-Total`, or none given)."""
    return value is None or value.strip().upper() in ("TOTAL", "T-TOTAL", "T", "")


def recognises(header: list[str]) -> bool:
    return set(RELATIONAL) <= set(header) and any(v in header for v in VALUE_COLUMNS)


def files(folder: Path) -> list[Path]:
    """Every spreadsheet and CSV below the folder (the data browser names them Relational_View_<time>.csv
    and <n>_spreadsheet.xlsx; sub-folders keep downloads apart)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".xlsx", ".csv"))


# ---- reading each layout into records -------------------------------------------------------------


def sheet_records(sheet: pl.DataFrame, sheet_name: str) -> pl.DataFrame | None:
    """The value cells of one data sheet as records; None for a sheet with no TIME and REPORTER rows
    (the Summary and Structure sheets)."""
    first = sheet.get_column(sheet.columns[0])
    labels = first.to_list()

    def row_of(prefix: str) -> int | None:
        return next((i for i, v in enumerate(labels) if v and v.strip().upper().startswith(prefix)), None)

    time_row, header_row = row_of("TIME"), row_of("REPORTER")
    if time_row is None or header_row is None:
        return None

    def block_value(prefix: str) -> str | None:
        i = row_of(prefix)
        return next((v for v in sheet.row(i)[1:] if v), None) if i is not None else None

    periods = sheet.row(time_row)
    value_columns = [(name, periods[i]) for i, name in enumerate(sheet.columns) if i >= 2 and periods[i]]
    data = sheet.slice(header_row + 1).with_row_index("_row", offset=header_row + 2)
    # the block ends at a blank row or the legend below it ("Special value", ": not available")
    first = pl.col(sheet.columns[0])
    ends = data.select((first.is_null() | first.str.starts_with("Special value")).arg_true().first()).item()
    data = data.head(ends) if ends is not None else data
    reporter, partner = sheet.columns[0], sheet.columns[1]
    if (sheet.row(header_row)[1] or "").strip().upper().startswith("REPORTER"):
        reporter, partner = partner, reporter  # partner first, reporter second
    long = data.unpivot(index=["_row", reporter, partner], on=[c for c, _ in value_columns], variable_name="_col")
    return long.select(
        pl.col(reporter).alias("reporter"),
        pl.col(partner).alias("partner"),
        pl.lit(block_value("PRODUCT")).alias("product"),
        pl.lit(block_value("FLOW")).alias("flow"),
        pl.lit(None, pl.String).alias("procedure"),
        pl.lit(block_value("INDICATORS")).alias("indicator"),
        pl.col("_col").replace_strict(dict(value_columns), return_dtype=pl.String).alias("period"),
        pl.col("value"),
        pl.format("{} row {}", pl.lit(sheet_name), pl.col("_row")).alias("place"),
    )


def spreadsheet_records(path: Path) -> tuple[pl.DataFrame, int]:
    try:
        # empty rows kept: a record's place is its sheet row, and a blank row ends the data block
        sheets = pl.read_excel(path, sheet_id=0, engine="calamine", has_header=False, infer_schema_length=0,
                               raise_if_empty=False, drop_empty_rows=False, drop_empty_cols=False)
    except Exception as err:  # the reader's own errors differ by fault (not a zip, not a workbook)
        raise SeedFileError(f"{path}: cannot be read as an Excel workbook: {str(err).strip().splitlines()[0]}") from None
    parts = [r for name, sheet in sheets.items() if sheet.width >= 3 and (r := sheet_records(sheet, name)) is not None]
    if not parts:
        raise SeedFileError(
            f"{path}: not a Eurostat data browser spreadsheet: no sheet has a TIME row of periods and a "
            "REPORTER/PARTNER header (download it from the data browser as 'Spreadsheet (xlsx)')"
        )
    kept = [without_missing(part) for part in parts]
    records = pl.concat([k for k, _ in kept])
    return records.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER)).cast(RECORD), sum(m for _, m in kept)


def relational_records(path: Path) -> tuple[pl.DataFrame, int]:
    header = header_of(path)
    missing = [c for c in RELATIONAL if c not in header]
    value = next((v for v in VALUE_COLUMNS if v in header), None)
    if missing or value is None:
        raise SeedFileError(
            f"{path}: not a Eurostat relational-view CSV: missing column(s) "
            f"{', '.join(missing + ([] if value else [' or '.join(VALUE_COLUMNS)]))}"
        )
    try:
        rows = pl.read_csv(path, infer_schema=False, encoding="utf8", columns=[*RELATIONAL, value])
    except pl.exceptions.PolarsError as err:
        raise SeedFileError(f"{path}: cannot be read as CSV: {str(err).strip().splitlines()[0]}") from None
    return rows.select(
        pl.col("REPORTER").alias("reporter"),
        pl.col("PARTNER").alias("partner"),
        pl.col("PRODUCT").alias("product"),
        pl.col("FLOW").alias("flow"),
        pl.col("STAT_PROCEDURE").alias("procedure"),
        pl.lit(value).alias("indicator"),
        pl.col("PERIOD").alias("period"),
        pl.col(value).alias("value"),
        pl.format("line {}", pl.int_range(2, pl.len() + 2)).alias("place"),
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(ROW_NUMBER),  # the header is line 1
    ).cast(RECORD).pipe(without_missing)


def without_missing(records: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The records with a value, and how many have none (':' or empty): most cells of a download are ':'
    (no trade that month), counted and dropped here so that memory holds only values."""
    value = pl.col("value").str.strip_chars()
    missing = value.is_null() | value.is_in([":", ""])
    return records.filter(~missing), records.select(missing.sum()).item()


def records_of(path: Path) -> tuple[pl.DataFrame, int]:
    """The file's records with a value, numbered (a spreadsheet's in the order read: sheet by sheet, row
    by row, period by period, `place` naming sheet and row; a CSV's by line, the header being line 1), and
    how many records had no value."""
    return spreadsheet_records(path) if path.suffix.lower() == ".xlsx" else relational_records(path)


# ---- what the whole import holds: headings with codes beneath, member-state rows beside aggregates --------


@dataclass(frozen=True)
class ImportIndex:
    codes: frozenset[str]  # every product code of the import
    member_keys: pl.DataFrame  # (partner, product, period) with member-state rows


def spreadsheet_codes(path: Path) -> list[str] | None:
    """Product codes a spreadsheet lists in its Structure sheet (fast: one small sheet), None without one."""
    try:
        structure = pl.read_excel(path, sheet_name="Structure", engine="calamine", has_header=False, infer_schema_length=0)
    except Exception:
        return None
    return [row[3] for row in structure.rows() if len(row) > 3 and row[2] == "PRODUCT" and row[3]]


@cache
def import_index(folder: Path, state: tuple) -> ImportIndex:
    """The index of one state of the folder (its files' names, sizes and times): read once per run."""
    codes: set[str] = set()
    keys = []
    for path in files(folder):
        listed = spreadsheet_codes(path) if path.suffix.lower() == ".xlsx" else None
        if listed is not None:
            codes.update(listed)  # the data browser's spreadsheets hold member states' rows only
            continue
        try:
            records = keyed(records_of(path)[0])
        except SeedFileError:
            continue  # reading the file itself names the fault
        codes.update(c for c in records["code"].unique().to_list() if c)
        keys.append(records.filter(pl.col("reporter_kind") == "country").select("partner_code", "code", "month"))
    member_keys = pl.concat(keys).unique() if keys else pl.DataFrame(schema={"partner_code": pl.String, "code": pl.String, "month": pl.String})
    return ImportIndex(frozenset(codes), member_keys)


def folder_state(folder: Path) -> tuple:
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files(folder))


def keyed(records: pl.DataFrame) -> pl.DataFrame:
    """Records with their mapped codes: reporter and partner (code and kind), product code, period, basis."""
    french = records["flow"].str.to_uppercase().str.contains("EXPORTATION|IMPORTATION").any()

    def mapped(column: str) -> list[pl.Expr]:
        values = records[column].unique().to_list()
        found = {v: geo(v, "fr" if french else "en") for v in values}
        codes = {v: g.code for v, g in found.items() if g and g.code}
        kinds = {v: g.kind for v, g in found.items() if g and g.kind != "ambiguous"}
        return [
            pl.col(column).replace_strict(codes, default=None, return_dtype=pl.String).alias(f"{column}_code"),
            pl.col(column).replace_strict(kinds, default=None, return_dtype=pl.String).alias(f"{column}_kind"),
        ]

    def per_value(column: str, fn, name: str) -> pl.Expr:
        values = {v: fn(v) for v in records[column].unique().to_list()}
        return pl.col(column).replace_strict(values, default=None, return_dtype=pl.String).alias(name)

    return records.with_columns(
        *mapped("reporter"), *mapped("partner"),
        per_value("product", product_code, "code"),
        per_value("period", period_of, "month"),
        per_value("flow", flow_basis, "basis"),
        per_value("procedure", lambda v: "total" if total_procedure(v) else "breakdown", "procedure_kind"),
    )


# ---- records → trade flows, totals, skips and rows kept aside ---------------------------------------


def read(path: Path, seeds_dir: Path) -> ImportedFile:
    name = relative_name(path, seeds_dir)
    folder = seeds_dir / FOLDER

    def chunks():
        records, missing = records_of(path)
        records = keyed(records)
        index = import_index(folder, folder_state(folder)) if path.is_relative_to(folder) else ImportIndex(frozenset(), pl.DataFrame())
        yield to_flows(records, missing, index, name)

    return ImportedFile(name=name, sha256=sha256_of(path), chunks=chunks)


def to_flows(records: pl.DataFrame, missing: int, index: ImportIndex, name: str) -> Chunk:
    value = pl.col("value").str.strip_chars().str.replace_all(r"[\s\u00a0]", "").cast(pl.Float64, strict=False)
    code, month = pl.col("code"), pl.col("month")
    year = month.str.slice(0, 4).cast(pl.Int32, strict=False)
    total = code == "TOTAL"
    headings = {c[:n] for c in index.codes for n in (2, 4, 6) if len(c) > n}  # codes with longer codes beneath
    heading = code.is_in(pl.Series(sorted(headings), dtype=pl.String).implode())
    skips: list[tuple[pl.Expr, str]] = [
        (pl.col("procedure_kind") == "breakdown", SKIP_PROCEDURE),
        (pl.col("partner_kind") == "partner_aggregate", SKIP_PARTNER_AGGREGATE),
        (pl.col("partner_kind") == "not_a_country", SKIP_NOT_COUNTRY),
        (~total & heading, SKIP_HEADING),
    ]
    reasons: list[Reason] = [
        (pl.col("reporter_code").is_null(), "reporter", "reporter not a country or bloc Eurostat names "
         "(pipeline/importers/eurostat_geo.csv lists the labels, English and French)", pl.col("reporter")),
        (pl.col("partner_kind").is_null(), "partner", "partner not a country Eurostat names, or a label whose "
         "meaning differs by language (pipeline/importers/eurostat_geo.csv lists the labels, English and French)",
         pl.col("partner")),
        (code.is_null(), "product", "product without its code: download with codes (`85423190-…`, or a "
         "spreadsheet's `label [85423190]`), or Total", pl.col("product")),
        (pl.col("basis").is_null(), "flow", "flow is EXPORT or IMPORT (2-EXPORT, 1-IMPORT, EXPORTATION, IMPORTATION)",
         pl.col("flow")),
        (month.is_null(), "period", "period is a month (2020-01, Aug. 2024, 202408-Aug. 2024) or a year "
         "(2019, Jan.-Dec. 2019, 201952-Jan.-Dec. 2019)", pl.col("period")),
        (~pl.col("indicator").str.to_uppercase().is_in(["VALUE_IN_EUROS", "VALUE_IN_EUR"]), "indicator",
         "indicator is the value in euros (VALUE_IN_EUROS): quantities are not trade values", pl.col("indicator")),
        (value.is_null() | (value < 0), "value", "value in euros is a number, 0 or more", pl.col("value")),
        (~total & (year < FIRST_LINKED_YEAR), "period",
         f"a product flow before {FIRST_LINKED_YEAR}: its CN is built on HS 2012 or earlier, which the shipped "
         "concordance does not link to HS 2022 (total-goods rows of any year load)", pl.col("period")),
    ]
    reporter_aggregate = pl.col("reporter_kind") == "bloc"
    # skipped first (nothing to judge), then kept aside, then aggregates beside member states' rows
    skipped_expr = pl.lit(None, pl.String)
    for condition, reason in reversed(skips):
        skipped_expr = pl.when(condition.fill_null(False)).then(pl.lit(reason)).otherwise(skipped_expr)
    records = records.with_columns(skipped_expr.alias("_skipped"))
    judged = records.filter(pl.col("_skipped").is_null())
    rejected = rejected_rows(judged.with_columns(pl.lit(name).alias(SOURCE_FILE)), reasons, NATIVE, name)
    good = judged.filter(~any_of(reasons))
    if index.member_keys.height and good.filter(reporter_aggregate).height:
        beside = good.join(index.member_keys.with_columns(pl.lit(True).alias("_members")),
                           on=["partner_code", "code", "month"], how="left")
        good = beside.with_columns(
            pl.when(reporter_aggregate & pl.col("_members").fill_null(False)).then(pl.lit(SKIP_AGGREGATE_REPORTER))
            .alias("_skipped")
        ).drop("_members")
        records = pl.concat([records.filter(pl.col("_skipped").is_not_null()),
                             good.filter(pl.col("_skipped").is_not_null()).select(records.columns)])
        good = good.filter(pl.col("_skipped").is_null())
    skipped = Counter(dict(records.filter(pl.col("_skipped").is_not_null()).group_by("_skipped").len().iter_rows()))
    if missing:
        skipped[SKIP_MISSING] = missing
    exports = pl.col("basis") == "exporter_reported"
    exporter = pl.when(exports).then(pl.col("reporter_code")).otherwise(pl.col("partner_code"))
    importer = pl.when(exports).then(pl.col("partner_code")).otherwise(pl.col("reporter_code"))
    edition = pl.when(year >= HS2022_YEAR).then(pl.lit("HS2022")).otherwise(pl.lit("HS2017"))
    products = good.filter(~(code == "TOTAL"))
    rows = products.select(flow_columns(
        name,
        flow_id=pl.format("comext:{}:{}:{}:{}:{}", pl.col("basis").str.slice(0, 1), "reporter_code", "partner_code", month, code),
        period=month,
        exporter_iso3=exporter,
        importer_iso3=importer,
        hs_code=code,
        hs_edition=edition,
        value=value.cast(pl.String),
        currency=pl.lit("EUR"),
        source=pl.lit(SOURCE),
        basis="basis",
    ))
    totals = good.filter(code == "TOTAL").select(
        exporter.alias("exporter_iso3"),
        importer.alias("importer_iso3"),
        month.alias("period"),
        pl.col("basis"),
        value.alias("value"),
        pl.lit("EUR").alias("currency"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(name).alias("file"),
        pl.col(ROW_NUMBER).alias("row"),
    )
    return Chunk(rows=rows, rejected=rejected, skipped=sum(skipped.values()), skip_reasons=dict(skipped), totals=totals)
