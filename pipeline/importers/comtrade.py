"""UN Comtrade Plus CSV files, bulk or API (the 47-column layout: typeCode, freqCode, period, reporterCode,
flowCode, partnerCode, partner2Code, classificationCode, cmdCode, customsCode, mosCode, motCode, netWgt,
primaryValue, …). Kept: goods (typeCode C) at HS level 6, totals rows only (customsCode C00, motCode 0,
mosCode 0, partner2Code 0) so nothing is counted twice; World (partner 0) rows are skipped as the sum of
the country rows. Exports (X) and imports (M) set basis; re-exports (RX) and re-imports (RM) are kept
apart (flow_kind) and never counted as trade. Values are primaryValue in USD (FOB for exports, CIF for
imports); monthly (freqCode M, period YYYYMM) or annual (A, period YYYY)."""

from pathlib import Path

import polars as pl
import pycountry

from pipeline.importers import (
    flow_columns,
    Chunk,
    ImportedFile,
    Reason,
    any_of,
    header_of,
    rejected_rows,
    relative_name,
    require_columns,
    sha256_of,
    text_batches,
)
from pipeline.seedfile import ROW_NUMBER
from pipeline.storage.warehouse import read_sql
from schemas.columns import ISO3_COUNTRIES

FOLDER = "imports/comtrade"
LABEL = "UN Comtrade Plus"
SOURCE = "UN Comtrade Plus ({})"  # the classification code, e.g. H6
USED = [
    "typeCode", "freqCode", "period", "reporterCode", "reporterISO", "flowCode", "partnerCode", "partnerISO",
    "partner2Code", "classificationCode", "cmdCode", "customsCode", "mosCode", "motCode", "netWgt", "primaryValue",
]
EDITIONS = {"H5": "HS2017", "H6": "HS2022"}  # Comtrade's classification codes of the linked editions
FLOWS = {  # flowCode → (reporter's side, basis, flow_kind)
    "X": ("exporter", "exporter_reported", None),
    "M": ("importer", "importer_reported", None),
    "RX": ("exporter", "exporter_reported", "re_export"),
    "RM": ("importer", "importer_reported", "re_import"),
}
# Comtrade's country codes are M49 = ISO 3166 numeric except where it keeps its own: France 251,
# Italy 381, USA 842, and (as in CEPII's BACI, built from Comtrade's codes) Norway 579, India 699,
# Switzerland 757. World is 0; areas n.e.s. (e.g. 490, 899) are not countries.
OWN_CODES = {"251": "FRA", "381": "ITA", "842": "USA", "579": "NOR", "699": "IND", "757": "CHE"}
COUNTRY = {str(int(c.numeric)): c.alpha_3 for c in pycountry.countries} | OWN_CODES
WORLD = "0"
SKIP_REASON = "a breakdown (customs procedure, mode of transport or supply, second partner) or the World partner: repeats the country rows"
SQL = read_sql(__file__, "comtrade.sql")


def recognises(header: list[str]) -> bool:
    return set(USED) <= set(header)


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")


def read(path: Path, seeds_dir: Path) -> ImportedFile:
    header = header_of(path)
    require_columns(path, header, USED, "UN Comtrade Plus (47-column CSV from the bulk download or the API)")
    name = relative_name(path, seeds_dir)

    def chunks():
        for frame in text_batches(path, SQL, {}):
            yield to_flows(frame.select(*USED, ROW_NUMBER), name)

    return ImportedFile(name=name, sha256=sha256_of(path), chunks=chunks)


def country(code: str, iso: str) -> tuple[pl.Expr, pl.Expr]:
    """ISO alpha-3 of a Comtrade code column, and the rule it breaks (null when it maps): a code not a
    country, or one the file's own ISO column contradicts."""
    mapped = pl.col(code).str.replace(r"\.0$", "").replace_strict(COUNTRY, default=None)
    file_iso = pl.col(iso).str.to_uppercase()
    known = file_iso.is_in(list(ISO3_COUNTRIES))
    value = pl.coalesce(mapped, pl.when(known).then(file_iso))
    rule = (
        pl.when(value.is_null())
        .then(pl.format(f"{code} {{}} ({iso} {{}}) is not a country: World or an area n.e.s.", pl.col(code), pl.col(iso)))
        .when(mapped.is_not_null() & known & (mapped != file_iso))
        .then(pl.format(f"{code} {{}} is {{}} in Comtrade's codes but {iso} says {{}}", pl.col(code), mapped, file_iso))
    )
    return value, rule


def to_flows(frame: pl.DataFrame, name: str) -> Chunk:
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in USED)
    breakdown = (
        (pl.col("customsCode") != "C00") | (pl.col("motCode") != "0") | (pl.col("mosCode") != "0")
        | (pl.col("partner2Code") != "0") | (pl.col("partnerCode") == WORLD)
    ).fill_null(True)
    skipped = frame.filter(breakdown).height
    frame = frame.filter(~breakdown)
    reporter, reporter_rule = country("reporterCode", "reporterISO")
    partner, partner_rule = country("partnerCode", "partnerISO")
    monthly = (pl.col("freqCode") == "M") & pl.col("period").str.contains(r"^\d{6}$")
    annual = (pl.col("freqCode") == "A") & pl.col("period").str.contains(r"^\d{4}$")
    reasons: list[Reason] = [
        (pl.col("typeCode") != "C", "typeCode", "typeCode C (goods) only: services have no HS code", pl.col("typeCode")),
        (~(monthly | annual), "period", "period is YYYYMM for freqCode M, YYYY for freqCode A", pl.col("period")),
        (
            ~pl.col("classificationCode").is_in(list(EDITIONS)), "classificationCode",
            "HS edition H5 (HS2017) or H6 (HS2022) only: the shipped concordance links those two",
            pl.col("classificationCode"),
        ),
        (
            ~pl.col("cmdCode").str.contains(r"^\d{6}$"), "cmdCode",
            pl.format("HS level 6 only: cmdCode {} is a total or a chapter or heading, which repeats HS6 rows", pl.col("cmdCode")),
            pl.col("cmdCode"),
        ),
        (~pl.col("flowCode").is_in(list(FLOWS)), "flowCode", "flowCode X, M, RX or RM only", pl.col("flowCode")),
        (reporter_rule.is_not_null(), "reporterCode", reporter_rule, pl.col("reporterCode")),
        (partner_rule.is_not_null(), "partnerCode", partner_rule, pl.col("partnerCode")),
        (pl.col("primaryValue").cast(pl.Float64, strict=False).is_null(), "primaryValue", "type: not a number (USD)", pl.col("primaryValue")),
    ]
    rejected = rejected_rows(frame, reasons, USED, name)
    good = frame.filter(~any_of(reasons))
    reporter_exports = pl.col("flowCode").replace_strict({k: v[0] for k, v in FLOWS.items()}) == "exporter"
    period = pl.when(pl.col("freqCode") == "M").then(
        pl.format("{}-{}", pl.col("period").str.slice(0, 4), pl.col("period").str.slice(4, 2))
    ).otherwise(pl.col("period"))
    rows = good.select(flow_columns(
        name,
        flow_id=pl.format("comtrade:{}:{}:{}:{}:{}:{}", "classificationCode", "reporterCode", "partnerCode", "flowCode",
                          "period", "cmdCode"),
        period=period,
        exporter_iso3=pl.when(reporter_exports).then(reporter).otherwise(partner),
        importer_iso3=pl.when(reporter_exports).then(partner).otherwise(reporter),
        hs_code="cmdCode",
        hs_edition=pl.col("classificationCode").replace_strict(EDITIONS),
        value="primaryValue",
        currency=pl.lit("USD"),
        quantity_kg="netWgt",
        source=pl.format(SOURCE, "classificationCode"),
        basis=pl.col("flowCode").replace_strict({k: v[1] for k, v in FLOWS.items()}),
        flow_kind=pl.col("flowCode").replace_strict({k: v[2] for k, v in FLOWS.items()}, return_dtype=pl.String),
    ))
    return Chunk(rows=rows, rejected=rejected, skipped=skipped, skip_reasons={SKIP_REASON: skipped} if skipped else {})

