"""Downloaded files taken as they are: one module per format recognises its layout (or fails with one
message naming the file and what is missing), maps codes, units and periods, and hands rows in a
contract's shape to the same validation, quarantine and audit as the seed files.

A trade format module (comtrade, baci) has FOLDER (under the seeds folder), LABEL, `recognises(header)`,
`files(folder)` and `read(path, seeds_dir)`; the list formats (ofac, opensanctions) give RawFiles for ref.sanctioned_parties.
"""

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline.contract import empty_quarantine
from pipeline.seedfile import LAYOUT, ROW_NUMBER, SOURCE_FILE, UTF8_BOM, RawFile, SeedFileError, decode_text, relative_name

# quality.load_audit.skip_reasons: why rows were skipped, and how many each
SKIP_REASONS = pl.List(pl.Struct({"reason": pl.String, "rows": pl.Int64}))
CHUNK_ROWS = 500_000  # rows read, mapped and checked at a time: memory stays bounded for 10M-row files


@dataclass(frozen=True)
class Chunk:
    rows: pl.DataFrame  # the trade-flow contract's columns as text, plus source_file and row_number
    rejected: pl.DataFrame  # QUARANTINE_COLUMNS: rows the format's own rules refuse, with the reason
    skipped: int  # rows left out by design (e.g. Comtrade breakdowns), counted in the audit
    skip_reasons: dict[str, int] = field(default_factory=dict)  # why, and how many rows each
    totals: pl.DataFrame | None = None  # total-goods rows (core.trade_totals' columns as read), not product flows


@dataclass(frozen=True)
class ImportedFile:
    name: str  # relative to the seeds folder
    sha256: str
    chunks: Callable[[], Iterator[Chunk]]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def header_of(path: Path) -> list[str]:
    """The file's first line as column names (BOM, CR and surrounding quotes and spaces dropped)."""
    with open(path, "rb") as f:
        first = f.readline()
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM):]
    if not first.strip():
        raise SeedFileError(f"{path}: file is empty")
    return [c.strip().strip('"').strip() for c in first.decode("utf-8", errors="replace").rstrip("\r\n").split(",")]


def require_columns(path: Path, header: list[str], required: list[str], layout: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise SeedFileError(f"{path}: not a {layout} file: missing column(s) {', '.join(missing)}")


BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def record_lines(path: Path) -> pl.Series | None:
    """The physical line each data record starts on, where that is not simply its index + 2: a file with blank
    lines (DuckDB skips them) or a quoted field spanning lines (one record, several lines). None for a plain file,
    the usual case, found by one pass over its bytes: no blank line, and no line with an odd number of quotes."""
    irregular = False
    with open(path, "rb") as f:
        partial = b""
        for block in iter(lambda: f.read(1 << 24), b""):
            text = partial + block
            cut = text.rfind(b"\n") + 1
            text, partial = text[:cut], text[cut:]
            # whole lines only: a blank one, or (where quotes are at all) one with an odd number of them
            if BLANK_LINE.search(b"\n" + text) or (b'"' in text and any(line.count(b'"') % 2 for line in text.split(b"\n"))):
                irregular = True
                break
    if not irregular:
        return None
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f)
        starts, start = [], 1
        for row in reader:
            if any(cell.strip() for cell in row):
                starts.append(start)
            start = reader.line_num + 1
    return pl.Series(ROW_NUMBER, starts[1:], dtype=pl.Int64)  # the header is the first record


def text_batches(path: Path, sql: str, params: dict) -> Iterator[pl.DataFrame]:
    """Rows of `sql` (which reads `$path` with DuckDB's read_csv, every column as text) in file order,
    CHUNK_ROWS at a time, each with its physical line in the file (the header is line 1; blank lines and
    quoted line breaks counted where they are)."""
    lines = record_lines(path)
    con = duckdb.connect()
    try:
        reader = con.execute(sql, {"path": str(path), **params}).to_arrow_reader(CHUNK_ROWS)
        first = 0
        for batch in reader:
            frame = pl.from_arrow(batch)
            numbers = (pl.int_range(pl.len(), dtype=pl.Int64) + first + 2) if lines is None else \
                pl.lit(lines.slice(first, frame.height))
            yield frame.with_columns(numbers.alias(ROW_NUMBER))
            first += frame.height
    except duckdb.Error as err:
        raise SeedFileError(f"{path}: cannot be read as CSV: {str(err).strip().splitlines()[0]}") from None
    finally:
        con.close()


Reason = tuple[pl.Expr, str, pl.Expr | str, pl.Expr]  # (row fails when, column, rule, bad value)


def flow_columns(name: str, **known: pl.Expr | str) -> list[pl.Expr]:
    """The trade-flow contract's columns in its order: those the format knows (an expression or a column name),
    the others empty (an observed corridor, a party's name: what the format does not say), then the file and row."""
    from schemas import TRADE_FLOWS

    unknown = set(known) - set(TRADE_FLOWS.columns)
    assert not unknown, f"not trade-flow columns: {sorted(unknown)}"
    return [
        *((pl.col(known[c]) if isinstance(known[c], str) else known[c]).alias(c) if c in known
          else pl.lit(None, pl.String).alias(c) for c in TRADE_FLOWS.columns),
        pl.lit(name).alias(SOURCE_FILE),
        pl.col(ROW_NUMBER),
    ]


def rejected_rows(frame: pl.DataFrame, reasons: list[Reason], native: list[str], name: str) -> pl.DataFrame:
    """Quarantine records of the rows failing each reason of the format, with the native row as raw_record."""
    parts = [
        frame.filter(condition.fill_null(False)).select(
            pl.lit(name).alias(SOURCE_FILE),
            pl.col(ROW_NUMBER),
            pl.lit(column).alias("column_name"),
            rule.alias("rule"),
            bad.cast(pl.String).alias("bad_value"),
            pl.struct(native).struct.json_encode().alias("raw_record"),
        )
        for condition, column, rule, bad in ((c, col, r if isinstance(r, pl.Expr) else pl.lit(r), b) for c, col, r, b in reasons)
    ]
    return pl.concat([empty_quarantine(), *parts], how="vertical_relaxed")


def any_of(reasons: list[Reason]) -> pl.Expr:
    condition = pl.lit(False)
    for reason in reasons:
        condition = condition | reason[0].fill_null(False)
    return condition


def find_file(folder: Path, name: str) -> Path | None:
    """`folder/name`, matching the name case-insensitively (OFAC publishes SDN.CSV and sdn.csv)."""
    if not folder.is_dir():
        return None
    matches = sorted(p for p in folder.iterdir() if p.is_file() and p.name.casefold() == name.casefold())
    return matches[0] if matches else None


def read_text(path: Path, fallback: str | None = None) -> tuple[str, str]:
    """The file's text and sha256 (a file of blanks and OFAC's Ctrl-Z end byte is empty)."""
    data = path.read_bytes()
    if not data.removeprefix(UTF8_BOM).replace(b"\x1a", b"").strip():
        raise SeedFileError(f"{path}: file is empty")
    return decode_text(path, data, fallback), hashlib.sha256(data).hexdigest()


def text_frame(records: list[dict], columns: list[str]) -> pl.DataFrame:
    """Rows as text in `columns` order, plus provenance and the layout flag."""
    schema = {c: pl.String for c in columns} | {SOURCE_FILE: pl.String, ROW_NUMBER: pl.Int64, LAYOUT: pl.String}
    return pl.DataFrame(records, schema=schema, orient="row") if records else pl.DataFrame(schema=schema)


def raw_file(path: Path, seeds_dir: Path, sha256: str, rows: pl.DataFrame) -> RawFile:
    return RawFile(path=path, name=relative_name(path, seeds_dir), sha256=sha256, rows=rows)


def multi(values: list[str | None]) -> str | None:
    """Values ';'-joined (empty ones dropped, order kept, duplicates dropped), or None."""
    kept = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    return ";".join(kept) if kept else None
