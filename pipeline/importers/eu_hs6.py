"""The EU Russia export-sanctions list at HS6 of Chupilkin, Javorcik, Peeva & Plekhanov (openICPSR 229004),
as its deposit gives it (`EU_sanctions_HS6.dta`, Stata) or as the same table written as CSV
(`EU_sanctions_HS6.csv`, dates YYYY-MM-DD, numbers as `1.0`), in lists/eu-hs6/ under the seeds folder.

Columns: Code (HS 2017 six digits), Date (entry into force), Winddowndate, partially_exempt, Maxprice (EUR per
item, luxury goods), the category flags (aviation, dual_use, firearms, industrial_cap, luxury, military_tech,
oil_exploration, oil_refining) and EU_sanction (1 = sanctioned). A file without them fails with one message
naming the file and the missing columns. Rows not sanctioned (EU_sanction empty or 0), and rows dated before any
of their categories' annexes existed, are skipped and counted by reason;
a row whose flags are not 0/1 is kept aside here, one with a bad code or date by the eu_hs6_list contract.

The sanctioned codes become EU export bans to Russia in ref.sanctions_measures, one measure per (Date, category
set, Maxprice): ids such as `eu_hs6_2022_03_15_luxury_300` are readable and stay the same when a code is added
to or dropped from a group, and ~70 measures keep `measure_ids` in the marts readable where 2,304 (one a code)
would not. Rows are numbered by their line in a CSV (the header is line 1), by their observation in a .dta
(the first is 1)."""

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import polars as pl

from pipeline.importers import Reason, any_of, rejected_rows, sha256_of
from pipeline.seedfile import LAYOUT, ROW_NUMBER, SOURCE_FILE, SeedFileError, relative_name
from schemas.eu_hs6 import CATEGORIES
from schemas.sanctions_measures import SEED as MEASURES

MEASURE_COLUMNS = MEASURES.columns

FOLDER = "lists/eu-hs6"
LABEL = "EU HS6 export-sanctions list (Chupilkin, Javorcik, Peeva & Plekhanov)"
COLUMNS = ("Code", "Date", "Winddowndate", "partially_exempt", "Maxprice", *CATEGORIES, "EU_sanction")
SUFFIXES = (".csv", ".dta")
SKIP_REASON = "not sanctioned: EU_sanction is 0 or empty"
BEFORE_ANNEX = "dated before any of its categories' annexes existed (CATEGORY_START): no act banned it on that day"
REGULATION = "Council Regulation (EU) No 833/2014"
# The article and annex each category of the list stands for; firearms is the list's own word, as its
# article is not named in the list.
ANNEXES = {
    "aviation": "Art. 3c and Annex XI (aviation and space industry)",
    "dual_use": "Art. 2 (dual-use items of Annex I to Regulation (EU) 2021/821)",
    "firearms": "firearms (the list's category)",
    "industrial_cap": "Art. 3k and Annex XXIII (goods that could enhance Russia's industrial capacities)",
    "luxury": "Art. 3h and Annex XVIII (luxury goods)",
    "military_tech": "Art. 2a and Annex VII (goods and technology for Russia's military and technological enhancement)",
    "oil_exploration": "Art. 3 and Annex II (oil exploration and production)",
    "oil_refining": "Art. 3b and Annex X (oil refining)",
}
# The first day each category's article or annex bound as an export ban to Russia: Reg. 833/2014 entered into
# force on 1 Aug 2014 with Annex II; Reg. 2022/328 (25 Feb 2022) made Art. 2 a ban for all Russian end users
# and created Annexes VII, X and XI; Reg. 2022/428 (15 Mar 2022) Annex XVIII; Reg. 2022/576 (8 Apr 2022)
# Annex XXIII. A code dated before every one of its categories existed names no act that banned it then, and
# the list does not say when it entered: the list dates 17 Annex VII codes 2016-12-22, years before Annex VII.
# Such rows are skipped with that reason, not guessed a date. The firearms category names no article.
CATEGORY_START = {
    "oil_exploration": "2014-08-01",
    "dual_use": "2022-02-25",
    "military_tech": "2022-02-25",
    "oil_refining": "2022-02-25",
    "aviation": "2022-02-25",
    "luxury": "2022-03-15",
    "industrial_cap": "2022-04-08",
}
SOURCE = ("Chupilkin, Javorcik, Peeva & Plekhanov, 'Economic Sanctions and Intermediated Trade', AEA Papers and "
          "Proceedings 2025, replication package openICPSR 229004 (CC BY 4.0), EU_sanctions_HS6; {file}")
FLAG = r"^(0|1)(\.0*)?$"  # 1, 1.0, 0, 0.0 (Stata floats written as text)
EMPTY_OR_FLAG = r"^$|" + FLAG


@dataclass(frozen=True)
class ListFile:
    name: str  # relative to the seeds folder
    sha256: str
    rows: pl.DataFrame  # sanctioned rows in the eu_hs6_list contract's shape, as text, with provenance
    rejected: pl.DataFrame  # QUARANTINE_COLUMNS: rows whose flags the list's own rules refuse
    rows_read: int
    skipped: int  # rows the list does not mark sanctioned, or dates before any of their categories existed
    skip_reasons: list[dict]  # {"reason", "rows"} per reason, as quality.load_audit keeps them


def list_file(seeds_dir: Path) -> Path | None:
    """The list in seeds_dir/lists/eu-hs6/: one .csv or .dta file; no folder (or an empty one): None. Both a
    .csv and a .dta are refused rather than one read: they are two copies of one list, which may disagree,
    and reading one silently would hide which one the measures rest on."""
    folder = seeds_dir / FOLDER
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.casefold() in SUFFIXES)
    if len(files) > 1:
        raise SeedFileError(
            f"{folder}: holds {' and '.join(p.name for p in files)}: keep one copy of the {LABEL} "
            "(the deposit's .dta or the same table as .csv), not both"
        )
    return files[0] if files else None


def _text(value) -> str:
    """A .dta cell as the CSV writes it: dates YYYY-MM-DD, floats as 1.0 / 300.0, missing as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(float(value)) if isinstance(value, (float, int)) and not isinstance(value, bool) else str(value)


def native_rows(path: Path) -> pl.DataFrame:
    """Every row of the file as text in its own columns, with its row number; the layout checked."""
    try:
        if path.suffix.casefold() == ".dta":
            table = pd.read_stata(path, convert_dates=True, convert_categoricals=False, preserve_dtypes=True)
            first_row = 1
            frame = pl.DataFrame({c: [_text(v) for v in table[c].tolist()] for c in table.columns if c in COLUMNS},
                                 schema={c: pl.String for c in table.columns if c in COLUMNS})
            header = list(table.columns)
        else:
            frame = pl.read_csv(path, infer_schema=False, missing_utf8_is_empty_string=True)
            first_row, header = 2, frame.columns
    except (ValueError, OSError, pl.exceptions.PolarsError) as err:
        raise SeedFileError(f"{path}: cannot be read as the {LABEL}: {str(err).strip().splitlines()[0]}") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SeedFileError(f"{path}: not the {LABEL} layout: missing column(s) {', '.join(missing)}")
    return frame.select(
        *(pl.col(c).fill_null("").str.strip_chars() for c in COLUMNS),
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_row).alias(ROW_NUMBER),
    )


def _is_one(column: str) -> pl.Expr:
    return pl.col(column).str.contains(FLAG) & pl.col(column).str.starts_with("1")


def _slug_price(price: str) -> str:
    number = float(price)
    return str(int(number)) if number.is_integer() else f"{number:g}".replace(".", "_")


def read(path: Path, seeds_dir: Path) -> ListFile:
    name = relative_name(path, seeds_dir)
    native = native_rows(path)
    if native.height == 0:
        raise SeedFileError(f"{path}: has a header but no rows")
    # sanctioned rows, and rows whose EU_sanction is neither 1, 0 nor empty (kept aside below, not skipped)
    sanctioned = native.filter(_is_one("EU_sanction") | ~pl.col("EU_sanction").str.contains(EMPTY_OR_FLAG))
    skipped = native.height - sanctioned.height
    flags = ("EU_sanction", "partially_exempt", *CATEGORIES)
    reasons: list[Reason] = [
        (~pl.col(flag).str.contains(EMPTY_OR_FLAG), flag, f"{flag} is 1, 0 or empty", pl.col(flag)) for flag in flags
    ]
    categories = pl.concat_list([pl.when(_is_one(c)).then(pl.lit(c)) for c in CATEGORIES]).list.drop_nulls()
    reasons.append((categories.list.len() == 0, "EU_sanction", "a sanctioned code names at least one category", pl.col("EU_sanction")))
    sanctioned = sanctioned.with_columns(pl.lit(name).alias(SOURCE_FILE))
    rejected = rejected_rows(sanctioned, reasons, list(COLUMNS), name)
    good = sanctioned.filter(~any_of(reasons)).with_columns(categories.list.join("|").alias("categories"))
    first_day = pl.min_horizontal(*(pl.when(_is_one(c)).then(pl.lit(day)) for c, day in CATEGORY_START.items()))
    before_annex = pl.col("Date").str.contains(r"^\d{4}-\d{2}-\d{2}$") & (pl.col("Date") < first_day).fill_null(False)
    too_early = good.filter(before_annex).height
    good = good.filter(~before_annex)
    price = pl.col("Maxprice").map_elements(_slug_price, return_dtype=pl.String, skip_nulls=True)
    slug = pl.concat_str(
        pl.lit("eu_hs6_"), pl.col("Date").str.replace_all("-", "_"), pl.lit("_"), pl.col("categories").str.replace_all(r"\|", "_"),
        pl.when(pl.col("Maxprice") != "").then(pl.lit("_") + price).otherwise(pl.lit("")),
    )
    rows = good.select(
        pl.col("Code").alias("code"),
        pl.col("Date").alias("effective_from"),
        pl.col("Winddowndate").alias("wind_down_date"),
        pl.when(_is_one("partially_exempt")).then(pl.lit("true")).otherwise(pl.lit("false")).alias("partially_exempt"),
        pl.col("Maxprice").alias("max_price_eur"),
        pl.col("categories"),
        slug.alias("measure_id"),
        pl.col(SOURCE_FILE),
        pl.col(ROW_NUMBER),
        pl.lit(None, pl.String).alias(LAYOUT),
    )
    skip_reasons = [{"reason": reason, "rows": n} for reason, n in ((SKIP_REASON, skipped), (BEFORE_ANNEX, too_early)) if n]
    return ListFile(name=name, sha256=sha256_of(path), rows=rows, rejected=rejected, rows_read=native.height,
                    skipped=skipped + too_early, skip_reasons=skip_reasons)


def _day(date) -> str:
    return f"{date.day} {date:%b %Y}"


def measures(codes: pl.DataFrame, file: str) -> pl.DataFrame:
    """The checked codes (eu_hs6_list contract, typed) grouped into ref.sanctions_measures rows, as text with
    provenance: the list's file and the line of the measure's first code."""
    groups = codes.group_by("measure_id").agg(
        pl.col("effective_from").first(), pl.col("categories").first(), pl.col("max_price_eur").first(),
        pl.col("code").sort().str.join("|").alias("target"), pl.len().alias("codes"),
        pl.col("partially_exempt").sum().alias("partial"), pl.col(ROW_NUMBER).min(),
        pl.col("wind_down_date").min().alias("wind_down_min"), pl.col("wind_down_date").max().alias("wind_down_max"),
    ).sort(ROW_NUMBER)
    records = []
    for g in groups.iter_rows(named=True):
        cats = g["categories"].split("|")
        price = g["max_price_eur"]
        luxury_only = cats == ["luxury"] and price is not None
        described = "; ".join(ANNEXES[c] for c in cats)
        text = [
            f"Sale, supply, transfer or export to Russia of the goods of {g['codes']} HS 2017 subheading(s) the EU HS6 "
            f"export-sanctions list marks sanctioned from {_day(g['effective_from'])} (its Date) under {', '.join(cats)}. "
            "The list maps annexes written by technical description to whole HS6 codes, so a code may hold goods the "
            "annexes leave out",
        ]
        if luxury_only:
            text.append(f"Luxury goods only above EUR {price:g} per item (the list's Maxprice): a flow is covered when its "
                        "value per item is known and above it")
        elif price is not None:
            text.append(f"The list gives these codes a luxury price threshold of EUR {price:g} per item; it is not applied, "
                        "as their other categories ban them whatever the price")
        if g["partial"]:
            text.append(f"{g['partial']} of the codes are partially exempt per the list, which does not say which goods: "
                        "no exclusion is modelled (ref.eu_hs6_list.partially_exempt)")
        if g["wind_down_max"] is not None:
            span = _day(g["wind_down_min"]) + ("" if g["wind_down_min"] == g["wind_down_max"] else f" to {_day(g['wind_down_max'])}")
            text.append(f"The list's wind-down date(s), {span}, are not applied: flows before them count as covered")
        records.append({
            "measure_id": g["measure_id"], "authority": "EU", "target_country": "RUS", "target_type": "hs_code",
            "target": g["target"], "direction": "to_target", "measure_type": "export_ban",
            "effective_from": g["effective_from"].isoformat(), "effective_to": None, "binds": "territory_and_persons",
            "own_imports_only": "false", "excluded_countries": None, "excluded_hs_prefixes": None,
            "hs_edition": "HS2017", "min_unit_value_eur": f"{price:g}" if luxury_only else None,
            "legal_reference": f"{REGULATION}, {described}",
            "description": ". ".join(text),
            "source": SOURCE.format(file=file),
            SOURCE_FILE: file, ROW_NUMBER: g[ROW_NUMBER], LAYOUT: None,
        })
    columns = [*MEASURE_COLUMNS, SOURCE_FILE, ROW_NUMBER, LAYOUT]
    return pl.DataFrame(records, schema={c: pl.Int64 if c == ROW_NUMBER else pl.String for c in columns}, orient="row")
