"""Read a seed file as text, refusing files that cannot be loaded at all with one clear message."""

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROW_NUMBER = "row_number"  # line of the row in its file; the header is line 1
SOURCE_FILE = "source_file"
UTF8_BOM = b"\xef\xbb\xbf"


class SeedFileError(Exception):
    """A file-level fault: the file as a whole cannot be loaded. The message names file and problem."""


@dataclass(frozen=True)
class RawFile:
    path: Path
    name: str  # as stored in tables: relative to the seeds folder
    sha256: str
    rows: pl.DataFrame  # every seed column as text, plus source_file and row_number


def seed_files(seeds_dir: Path, relative: str) -> list[Path]:
    """The files of a seed: one CSV, or every CSV in a folder (sorted)."""
    path = seeds_dir / relative
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.casefold() == ".csv" and p.is_file())  # 2023-05.CSV too
        if not files:
            raise SeedFileError(f"{path}: folder holds no .csv files")
        return files
    if not path.exists():
        raise SeedFileError(f"{path}: file not found")
    return [path]


def relative_name(path: Path, seeds_dir: Path) -> str:
    """How tables name a file: relative to the seeds folder when it lies inside it."""
    return str(path.relative_to(seeds_dir)) if path.is_relative_to(seeds_dir) else str(path)


def decode_text(path: Path, data: bytes, fallback: str | None = None) -> str:
    """The file's bytes as text: UTF-8 without its BOM; `fallback` decodes what is not UTF-8, else the
    fault names line and byte."""
    data = data.removeprefix(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if fallback:
            return data.decode(fallback)
        line = data[: err.start].count(b"\n") + 1
        raise SeedFileError(
            f"{path}: not valid UTF-8 (line {line}, byte {err.start}: {data[err.start:err.start + 1]!r}); "
            "save the file as UTF-8"
        ) from None


def read_seed_file(path: Path, columns: list[str], seeds_dir: Path, optional: tuple[str, ...] = ()) -> RawFile:
    """`optional` columns may be left out of a file; they are then read as empty."""
    data = path.read_bytes()
    name = relative_name(path, seeds_dir)
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.removeprefix(UTF8_BOM).strip():
        raise SeedFileError(f"{path}: file is empty (expected a header line: {','.join(columns)})")
    text = decode_text(path, data)

    header = next(csv.reader(io.StringIO(text.splitlines()[0])))
    header = [h.strip() for h in header]
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

    try:
        rows = pl.read_csv(io.StringIO(text), infer_schema=False, new_columns=header)
    except pl.exceptions.PolarsError as err:
        first_line = str(err).strip().splitlines()[0]
        raise SeedFileError(f"{path}: cannot be parsed as CSV: {first_line}") from None
    if rows.height == 0:
        raise SeedFileError(f"{path}: has a header but no data rows")

    absent = [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in header]
    rows = rows.with_columns(absent).select(columns).with_columns(
        pl.lit(name).alias(SOURCE_FILE),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias(ROW_NUMBER),
    )
    return RawFile(path=path, name=name, sha256=sha256, rows=rows)
