"""Read a seed file as text, refusing files that cannot be loaded at all with one clear message."""

import csv
import hashlib
import io
import itertools
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROW_NUMBER = "row_number"  # line of the row in its file; the header is line 1
SOURCE_FILE = "source_file"
UTF8_BOM = b"\xef\xbb\xbf"
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")  # before UTF-16's: they share its first bytes
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
NOT_TEXT = {  # first bytes of files often saved with a .csv name by mistake
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?): export the sheet as CSV UTF-8",
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 .xls workbook: export the sheet as CSV UTF-8",
    b"\x1f\x8b": "gzip-compressed: unpack it first",
}
PARSE_BATCH = 50_000  # records the csv module turns into a frame at a time
LAYOUT = "_layout"  # why a row does not fit its file's header (wrong field count), else null
LAYOUT_RULE_PREFIX = "layout: "
csv.field_size_limit(sys.maxsize)  # a long text cell is a value to check, not a reason to refuse the file


class SeedFileError(Exception):
    """A file-level fault: the file as a whole cannot be loaded. The message names file and problem."""


@dataclass(frozen=True)
class RawFile:
    path: Path
    name: str  # as stored in tables: relative to the seeds folder
    sha256: str
    rows: pl.DataFrame  # every seed column as text, plus source_file, row_number and LAYOUT


def seed_files(seeds_dir: Path, relative: str) -> list[Path]:
    """The files of a seed: one CSV, or every CSV in a folder (sorted). A .csv entry that is no
    readable file (a looping or broken link, a folder) is a fault, never silently passed over."""
    path = seeds_dir / relative
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.casefold() == ".csv")  # 2023-05.CSV too
        if not files:
            raise SeedFileError(f"{path}: folder holds no .csv files")
    elif not path.is_symlink() and not path.exists():
        raise SeedFileError(f"{path}: file not found")
    else:
        files = [path]
    for file in files:
        inside_seeds(file, seeds_dir)
        try:
            regular = stat.S_ISREG(file.stat().st_mode)
        except OSError as err:
            raise SeedFileError(f"{file}: cannot be opened: {err.strerror} (a broken or looping symbolic link?)") from None
        if not regular:
            raise SeedFileError(f"{file}: not a regular file (a folder or a device named .csv)")
    return files


def inside_seeds(path: Path, seeds_dir: Path) -> Path:
    """`path`, refused when it resolves outside the seeds folder (a link elsewhere): nothing but seed files is
    read, so no message can quote a line of a file that is not a seed. Its target is not named either."""
    try:
        outside = not path.resolve().is_relative_to(seeds_dir.resolve())
    except (OSError, RuntimeError):  # a looping link: the readers name it as such
        return path
    if outside:
        raise SeedFileError(f"{path}: a link to a file outside the seeds folder {seeds_dir}: refused, as Detour reads "
                            "only what lies in the seeds folder (copy the file in instead)")
    return path


def relative_name(path: Path, seeds_dir: Path) -> str:
    """How tables name a file: relative to the seeds folder when it lies inside it."""
    return str(path.relative_to(seeds_dir)) if path.is_relative_to(seeds_dir) else str(path)


# A multi-byte UTF-8 character: a file holding one is UTF-8, whatever a stray byte elsewhere says.
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def decode_text(path: Path, data: bytes, fallback: str | None = None) -> str:
    """The file's bytes as text: UTF-8 without its BOM; `fallback` decodes what is not UTF-8, else the
    fault names line and byte."""
    data = data.removeprefix(UTF8_BOM)
    for magic, what in NOT_TEXT.items():
        if data.startswith(magic):
            raise SeedFileError(f"{path}: not a CSV file but {what}")
    for encoding, marks in (("UTF-32", UTF32_BOMS), ("UTF-16", UTF16_BOMS)):
        if data.startswith(marks):
            raise SeedFileError(f"{path}: {encoding} text (it starts with a {encoding} byte-order mark); save the file as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        where = f"line {line}, byte {err.start}: {data[err.start:err.start + 1]!r}"
        # A file that is UTF-8 elsewhere is not in the fallback encoding: decoding it whole as such would turn
        # every accented name into mojibake, silently. Only a file with no UTF-8 sequence at all falls back.
        if fallback and not UTF8_SEQUENCE.search(data):
            try:
                return data.decode(fallback)
            except UnicodeDecodeError as fault:
                line = data[: fault.start].count(b"\n") + 1
                raise SeedFileError(
                    f"{path}: neither UTF-8 nor {fallback} (line {line}, byte {fault.start}: "
                    f"{data[fault.start:fault.start + 1]!r}); save the file as UTF-8"
                ) from None
        mixed = " and UTF-8 elsewhere: two encodings in one file" if fallback else ""
        raise SeedFileError(f"{path}: not valid UTF-8 ({where}){mixed}; save the file as UTF-8") from None


def csv_records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, fields) of every record of CSV text; blank lines are skipped. Any
    line ending (LF, CRLF, CR) ends a record; a quoted field may span lines; a quote never closed is
    a fault naming the line it opened on (a lenient reader would swallow the rest of the file)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            problem = "a quoted field opened here is never closed" if "unexpected end of data" in str(err) else str(err)
            raise SeedFileError(f"{path}: line {line}: cannot be parsed as CSV: {problem}") from None
        if row and not (len(row) == 1 and not row[0].strip()):
            yield line, row


def header_record(path: Path, text: str) -> tuple[int, list[str]]:
    """The first record (the header) and its line. Parsed from the first line alone where it is whole
    there: the csv module copies the text it reads at 4 bytes a character (560 MB for a 150 MB file)."""
    line_ends = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    first_line = text[: min(line_ends) + 1] if line_ends else text
    try:
        found = next(csv_records(path, first_line), None)
    except SeedFileError:  # a quoted header cell that spans lines
        found = None
    return found if found is not None else next(csv_records(path, text))


def layout_problem(fields: list[str], expected: int) -> str | None:
    """None when the row has the header's field count; else the counts, and what lies beyond the header."""
    if len(fields) == expected:
        return None
    text = f"{LAYOUT_RULE_PREFIX}{len(fields)} field{'' if len(fields) == 1 else 's'}, the header has {expected}"
    return f"{text}; beyond the header: {','.join(fields[expected:])}" if len(fields) > expected else text


def read_rectangular(body: bytes, header_line: int, header: list[str]) -> pl.DataFrame | None:
    """polars' CSV reader, the fastest way in, for quote-free UTF-8 whose first line is the header and
    whose every line is a row with the header's field count (no blank line): then a row's line is its
    index + 2. None when the text is otherwise: the line-by-line split below names each odd line.
    It reads the file's bytes, with no decoded copy beside them: at 150 MB a file, copies add up."""
    width = len(header)
    # a blank line is skipped by the line split; with one column, a line of spaces would be a value here
    if header_line != 1 or width < 2 or b"\n\n" in body or b"\n\r\n" in body:
        return None
    try:
        rows = pl.read_csv(
            body, has_header=True, new_columns=header, quote_char=None, infer_schema=False, empty_string_is_null=False
        )
    except pl.exceptions.PolarsError:  # a line with more fields than the header
        return None
    # polars fills a short line with empty fields: every line holding width - 1 commas rules that out
    if body.count(b",") != (width - 1) * (rows.height + 1):
        return None
    return rows.with_columns(
        pl.int_range(2, rows.height + 2, dtype=pl.Int64).alias(ROW_NUMBER), pl.lit(None, dtype=pl.String).alias(LAYOUT)
    )


def parse_rows(path: Path, body: bytes, header_line: int, header: list[str]) -> pl.DataFrame:
    """The data rows of UTF-8 `body` (no BOM) as text in header order, with their line (ROW_NUMBER) and
    LAYOUT. Text with no quote and no bare CR is split on commas by polars (the bulk of large trade-flow
    files); any other goes through the csv module, which knows where a quoted field spanning lines ends.
    (ASCII bytes never occur inside a UTF-8 multibyte character, so the bytes tell these apart.)"""
    width = len(header)
    if b'"' not in body and body.count(b"\r") == body.count(b"\r\n"):
        rectangular = read_rectangular(body, header_line, header)
        if rectangular is not None:
            return rectangular
        text = body.decode("utf-8")
        line = pl.col("_line")
        fields = pl.col("_fields")
        count = fields.list.len()
        surplus = fields.list.slice(width).list.join(",")
        return (
            pl.DataFrame({"_line": pl.Series([text]).str.split("\n").explode().str.strip_suffix("\r")})
            .with_row_index(ROW_NUMBER, offset=1)
            .filter(pl.col(ROW_NUMBER) > header_line, line.str.strip_chars() != "")
            .with_columns(line.str.split(",").alias("_fields"))  # split once: each column below takes its field
            .select(
                *(fields.list.get(i, null_on_oob=True).alias(name) for i, name in enumerate(header)),
                pl.col(ROW_NUMBER).cast(pl.Int64),
                pl.when(count != width)
                .then(pl.format(f"{LAYOUT_RULE_PREFIX}{{}} field{{}}, the header has {width}", count,
                                pl.when(count == 1).then(pl.lit("")).otherwise(pl.lit("s")))
                      + pl.when(count > width).then(pl.lit("; beyond the header: ") + surplus).otherwise(pl.lit("")))
                .alias(LAYOUT),
            )
        )
    records = csv_records(path, body.decode("utf-8"))
    next(records)  # the header, read already
    schema = {**{name: pl.String for name in header}, ROW_NUMBER: pl.Int64, LAYOUT: pl.String}
    # a frame per batch of records: Python lists of a million rows of strings took gigabytes
    frames = [pl.DataFrame(schema=schema)]
    while batch := [
        [*fields[:width], *[None] * (width - len(fields)), line, layout_problem(fields, width)]
        for line, fields in itertools.islice(records, PARSE_BATCH)
    ]:
        frames.append(pl.DataFrame(batch, schema=schema, orient="row"))
    return pl.concat(frames, rechunk=False)


def checked_header(path: Path, text: str, columns: list[str], optional: tuple[str, ...]) -> tuple[int, list[str]]:
    """The header record and its line, refused with one message when it is not the seed's."""
    header_line, header = header_record(path, text)
    header = [h.strip() for h in header]
    unnamed = [str(i) for i, h in enumerate(header, start=1) if not h]
    if unnamed:
        raise SeedFileError(
            f"{path}: line 1: header column(s) {', '.join(unnamed)} of {len(header)} have no name (a trailing comma?)"
        )
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise SeedFileError(f"{path}: duplicate column(s) in header: {', '.join(duplicates)}")
    missing = [c for c in columns if c not in header and c not in optional]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        raise SeedFileError(f"{path}: {'; '.join(problems)} (expected: {','.join(columns)})")

    return header_line, header


def read_seed_file(path: Path, columns: list[str], seeds_dir: Path, optional: tuple[str, ...] = ()) -> RawFile:
    """`optional` columns may be left out of a file; they are then read as empty."""
    inside_seeds(path, seeds_dir)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SeedFileError(f"{path}: cannot be read: {err.strerror}") from None
    name = relative_name(path, seeds_dir)
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.removeprefix(UTF8_BOM).strip():
        raise SeedFileError(f"{path}: file is empty (expected a header line: {','.join(columns)})")
    header_line, header = checked_header(path, decode_text(path, data), columns, optional)  # the text is not kept
    rows = parse_rows(path, data.removeprefix(UTF8_BOM), header_line, header)
    if rows.height == 0:
        raise SeedFileError(f"{path}: has a header but no data rows")

    absent = [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in header]
    rows = rows.with_columns(absent).select(*columns, pl.lit(name).alias(SOURCE_FILE), ROW_NUMBER, LAYOUT)
    return RawFile(path=path, name=name, sha256=sha256, rows=rows)


PIECE_BYTES = 64 * 1024 * 1024  # a seed file larger than this is read, checked and loaded a piece at a time


def one_record_per_line(path: Path) -> bool:
    """True when every record is one physical line (no quoted field spans lines, no bare CR): such a file can
    be cut at any line end. One pass over its bytes, a block at a time."""
    with open(path, "rb") as f:
        partial = b""
        for block in iter(lambda: f.read(1 << 24), b""):
            text = partial + block
            cut = text.rfind(b"\n") + 1
            text, partial = text[:cut], text[cut:]
            if text.count(b"\r") != text.count(b"\r\n"):
                return False
            if b'"' in text and any(line.count(b'"') % 2 for line in text.split(b"\n")):
                return False
    return partial.count(b'"') % 2 == 0 and b"\r" not in partial


def read_seed_pieces(path: Path, columns: list[str], seeds_dir: Path, optional: tuple[str, ...] = ()) -> Iterator[RawFile]:
    """The file's rows as read_seed_file gives them, a piece of about PIECE_BYTES at a time, each row with its
    line in the whole file: memory stays bounded whatever the file's size or content. A small file, or one
    whose records span lines, comes whole."""
    inside_seeds(path, seeds_dir)
    if path.stat().st_size <= PIECE_BYTES or not one_record_per_line(path):
        yield read_seed_file(path, columns, seeds_dir, optional)
        return
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    sha256, name = digest.hexdigest(), relative_name(path, seeds_dir)
    with open(path, "rb") as f:
        first = f.readline()
        header_bytes = first.removeprefix(UTF8_BOM)
        header_line, header = checked_header(path, decode_text(path, header_bytes), columns, optional)
        absent = [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in header]
        lines_before, partial = 1, b""  # physical lines before the piece's first
        for block in iter(lambda: f.read(PIECE_BYTES), b""):
            text = partial + block
            cut = text.rfind(b"\n") + 1
            body, partial = (text[:cut], text[cut:]) if cut else (b"", text)
            if not body:
                continue
            yield piece_of(path, name, sha256, header_bytes, header_line, header, body, lines_before, columns, absent)
            lines_before += body.count(b"\n")
        if partial.strip():
            yield piece_of(path, name, sha256, header_bytes, header_line, header, partial, lines_before, columns, absent)


def piece_of(path: Path, name: str, sha256: str, header_bytes: bytes, header_line: int, header: list[str],
             body: bytes, lines_before: int, columns: list[str], absent: list[pl.Expr]) -> RawFile:
    """One piece of a file (whole lines) parsed behind its header, its rows numbered by their line in the file."""
    piece = header_bytes.rstrip(b"\r\n") + b"\n" + body
    try:
        decode_text(path, piece)
    except SeedFileError:  # name the byte by its place in the whole file
        decode_text(path, path.read_bytes())
        raise
    rows = parse_rows(path, piece, header_line, header).with_columns(pl.col(ROW_NUMBER) + (lines_before - 1))
    rows = rows.with_columns(absent).select(*columns, pl.lit(name).alias(SOURCE_FILE), ROW_NUMBER, LAYOUT)
    return RawFile(path=path, name=name, sha256=sha256, rows=rows)
