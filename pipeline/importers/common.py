"""What the list importers share: finding a file whatever the case of its name, decoding it, and
rows as text frames in a contract's shape with their provenance."""

import hashlib
from pathlib import Path

import polars as pl

from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, UTF8_BOM, RawFile, SeedFileError

LAYOUT = "_layout"  # why a row does not fit the file's layout (wrong field count), else null
LAYOUT_RULE_PREFIX = "layout: "


def find_file(folder: Path, name: str) -> Path | None:
    """`folder/name`, matching the name case-insensitively (OFAC publishes SDN.CSV and sdn.csv)."""
    if not folder.is_dir():
        return None
    matches = sorted(p for p in folder.iterdir() if p.is_file() and p.name.casefold() == name.casefold())
    return matches[0] if matches else None


def read_text(path: Path, fallback: str | None = None) -> tuple[str, str]:
    """The file's text and sha256. UTF-8 (BOM dropped); `fallback` decodes what is not UTF-8."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    if not data.replace(b"\x1a", b"").strip():
        raise SeedFileError(f"{path}: file is empty")
    try:
        return data.decode("utf-8"), sha256
    except UnicodeDecodeError as err:
        if fallback:
            return data.decode(fallback), sha256
        line = data[: err.start].count(b"\n") + 1
        raise SeedFileError(f"{path}: not valid UTF-8 (line {line}, byte {err.start}); save the file as UTF-8") from None


def relative_name(path: Path, seeds_dir: Path) -> str:
    return str(path.relative_to(seeds_dir)) if path.is_relative_to(seeds_dir) else str(path)


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
