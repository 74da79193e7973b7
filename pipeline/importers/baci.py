"""CEPII BACI trade files (`BACI_HS17_Y2021_V202501.csv`: t,i,j,k,v,q) beside the `country_codes_V<release>.csv`
of the same release. BACI reconciles the exporter's and the importer's reports into one annual figure, so
its rows carry basis 'baci_reconciled', frequency annual (period YYYY), values in USD (v × 1000) and
quantities in kg (q × 1000). Its numeric country codes are its own (251 France, 579 Norway, 699 India,
757 Switzerland, 842 USA; Italy 381 in V202201 but 380 in V202501): they are mapped through the
dictionary of the same release, never as ISO numeric codes."""

import re
from pathlib import Path

import polars as pl

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
from pipeline.seedfile import SeedFileError, inside_seeds
from pipeline.storage.warehouse import read_sql

FOLDER = "imports/baci"
LABEL = "CEPII BACI"
SOURCE = "CEPII, BACI (Gaulier & Zignago 2010), release {release}"
TRADE_FILE = re.compile(r"^BACI_HS(\d{2})_.*V(\d{6})[^/]*\.csv$", re.IGNORECASE)
DICTIONARY = re.compile(r"^country_codes_V(\d{6})\.csv$", re.IGNORECASE)
EDITIONS = {"17": "HS2017", "22": "HS2022"}  # the editions ref.hs_concordance links
COLUMNS = ["t", "i", "j", "k", "v", "q"]
# The 5-column layout (V202201 and before) and the 4-column one (V202501 on): code and ISO alpha-3.
DICTIONARY_LAYOUTS = {
    "country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,iso_3digit_alpha": "iso_3digit_alpha",
    "country_code,country_name,country_iso2,country_iso3": "country_iso3",
}
SQL = read_sql(__file__, "baci.sql")
CARRIED = Path(__file__).with_name("baci_dictionaries")  # full dictionaries of the releases Detour knows (SOURCES.md)


def recognises(header: list[str]) -> bool:
    return header == COLUMNS


def files(folder: Path) -> list[Path]:
    """The BACI trade files of the folder; any other CSV than a trade file or a dictionary is refused."""
    paths = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv"):
        if TRADE_FILE.match(path.name):
            paths.append(path)
        elif not DICTIONARY.match(path.name):
            raise SeedFileError(
                f"{path}: not a BACI file name: trade files are BACI_HS<17|22>_Y<year>_V<release>.csv and "
                "dictionaries country_codes_V<release>.csv, as CEPII names them"
            )
    return paths


def country_codes(path: Path, release: str, seeds_dir: Path) -> dict[str, str]:
    """BACI's numeric code → ISO alpha-3, from the dictionary of the file's release: the one beside the file
    (its download's own, or a user's), else the full dictionary the importer carries for that release."""
    matches = [p for p in path.parent.iterdir() if (m := DICTIONARY.match(p.name)) and m.group(1) == release]
    carried = CARRIED / f"country_codes_V{release}.csv"
    if matches:
        dictionary = inside_seeds(matches[0], seeds_dir)
    elif carried.is_file():
        dictionary = carried
    else:
        known = ", ".join(sorted(DICTIONARY.match(p.name).group(1) for p in CARRIED.glob("country_codes_V*.csv")))
        raise SeedFileError(
            f"{path}: no country_codes_V{release}.csv beside it: BACI's country codes are mapped with the dictionary "
            f"of the same release (it comes in CEPII's download; Detour carries those of release {known})"
        )
    header = ",".join(header_of(dictionary))
    if header not in DICTIONARY_LAYOUTS:
        raise SeedFileError(
            f"{dictionary}: not a BACI country dictionary: expected the header "
            + " or ".join(DICTIONARY_LAYOUTS)
        )
    # Names are not used and some are mis-encoded (CÙte d'Ivoire): read as lossy UTF-8.
    codes = pl.read_csv(dictionary, infer_schema=False, encoding="utf8-lossy").with_columns(
        pl.col("country_code").str.strip_chars(), (pl.int_range(pl.len()) + 2).alias("line"))
    iso3 = DICTIONARY_LAYOUTS[header]
    # a code on two lines would map every flow of it to whichever came last: refused, naming both lines
    twice = codes.filter(pl.col("country_code").is_duplicated()).group_by("country_code", maintain_order=True).agg("line")
    if twice.height:
        code, lines = twice.row(0)
        raise SeedFileError(
            f"{dictionary}: country_code {code} is on lines {' and '.join(map(str, lines))}: a code names one country"
            + (f" ({twice.height} codes repeated)" if twice.height > 1 else "")
        )
    return dict(zip(codes["country_code"], codes[iso3].str.strip_chars(), strict=True))


def read(path: Path, seeds_dir: Path) -> ImportedFile:
    match = TRADE_FILE.match(path.name)
    edition, release = match.group(1), match.group(2)
    if edition not in EDITIONS:
        raise SeedFileError(
            f"{path}: BACI in HS{edition}: only HS17 and HS22 files can be matched to the HS 2022 lists "
            "(the shipped concordance links HS 2017 and HS 2022)"
        )
    require_columns(path, header_of(path), COLUMNS, "CEPII BACI trade (t,i,j,k,v,q)")
    codes = country_codes(path, release, seeds_dir)
    name = relative_name(path, seeds_dir)
    source = SOURCE.format(release=f"V{release}")

    def chunks():
        for frame in text_batches(path, SQL, {}):
            yield to_flows(frame, codes, name, source, EDITIONS[edition], release)

    return ImportedFile(name=name, sha256=sha256_of(path), chunks=chunks)


def to_flows(frame: pl.DataFrame, codes: dict[str, str], name: str, source: str, edition: str, release: str) -> Chunk:
    # pandas-written copies drop the leading zero of chapters 01-09 (10620 is 010620): pad to 6.
    hs = pl.col("k").str.zfill(6)
    exporter = pl.col("i").replace_strict(codes, default=None)
    importer = pl.col("j").replace_strict(codes, default=None)
    reasons: list[Reason] = [
        (~pl.col("t").str.contains(r"^\d{4}$"), "t", "t is the year, YYYY", pl.col("t")),
        (exporter.is_null(), "i", f"exporter code not in country_codes_V{release}.csv", pl.col("i")),
        (importer.is_null(), "j", f"importer code not in country_codes_V{release}.csv", pl.col("j")),
        (~pl.col("k").str.contains(r"^\d{5,6}$"), "k", "k is an HS6 code (6 digits; 5 when a leading zero was lost)", pl.col("k")),
        (pl.col("value_usd").is_null(), "v", "type: not a number (thousands of USD)", pl.col("v")),
        (
            pl.col("quantity_kg").is_null() & ~(pl.col("q").is_null() | pl.col("q").is_in(["", "NA"])),
            "q", "type: not a number (metric tonnes, or NA)", pl.col("q"),
        ),
    ]
    rejected = rejected_rows(frame, reasons, COLUMNS, name)
    good = frame.filter(~any_of(reasons))
    rows = good.select(flow_columns(
        name,
        flow_id=pl.format("baci:V{}:{}:{}:{}:{}", pl.lit(release), "t", "i", "j", hs),
        period="t",
        exporter_iso3=exporter,
        importer_iso3=importer,
        hs_code=hs,
        hs_edition=pl.lit(edition),
        value="value_usd",
        currency=pl.lit("USD"),
        quantity_kg="quantity_kg",
        source=pl.lit(source),
        basis=pl.lit("baci_reconciled"),
    ))
    return Chunk(rows=rows, rejected=rejected, skipped=0)
